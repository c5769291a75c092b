import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MillraceError } from '../../lib/errors.ts';
import { readState, saveState, type DeadLetter } from '../checkpoints.ts';
import { defineConnector } from '../define-connector.ts';
import type { Envelope } from '../envelope.ts';
import { CLOCKIN_COLUMNS, CLOCKIN_KEY, CLOCKIN_REQUIRED, clockinRow, clockinWorker } from '../schemas/clockin.ts';
import { mapRecord, recordMappingSchema } from '../record-mapping.ts';
import { fileNameMatcher } from './file-tail.ts';
import { diffWorkbook, fileStateSchema, type FileState } from './excel-diff.ts';
import { canonicalOf, readSheet } from './excel-sheet.ts';
import { createPollingConnector } from '../polling-connector.ts';

/**
 * Row schemas by name: canonical cells → event fields or the reason the row is malformed, and the
 * current-state entity a row states when the sheet has its column (clock-in: `worker`, by Name).
 */
const rowSchemas = {
  clockin: { type: 'clockin.row', parse: clockinRow, entity: { name: 'worker', column: 'name', of: clockinWorker } },
} as const;

const stateSchema = z.object({ files: z.record(z.string(), fileStateSchema) });
type State = z.infer<typeof stateSchema>;
const PUBLISH_CHUNK = 1_000;

const configSchema = z
  .object({
    /** Directory holding the workbooks. */
    directory: z.string().min(1),
    /** File-name glob (`*`, `?`) or `^regex`. Default `clockin-*.xlsx`. */
    pattern: z.string().min(1).default('clockin-*.xlsx'),
    /** Sheet read in each workbook: its name, or its position (1 = first). Default `Clock-in`. */
    sheet: z.union([z.string().min(1), z.number().int().positive()]).default('Clock-in'),
    /**
     * How rows become events. Default `clockin`: type `clockin.row`, plus a `worker` entity
     * (employee id → name, department) per employee when the sheet has a Name column.
     */
    rowSchema: z.enum(['clockin']).default('clockin'),
    /**
     * Any other sheet: a mapping (ingest/record-mapping.ts) from the row's canonical columns to the
     * event (a fixed `type`); it replaces `rowSchema`. Rows stay signed change events. Default unset.
     */
    map: recordMappingSchema
      .refine((m) => typeof m.type === 'string', {
        message: "a sheet's rows have one fixed event type",
        path: ['type'],
      })
      .optional(),
    /** Columns (canonical names or any alias) whose values identify a row. Default Date, Employee ID, Shift. */
    key: z
      .array(z.string().min(1))
      .min(1)
      .default([...CLOCKIN_KEY]),
    /** Canonical column → accepted header aliases (a renamed column is read through its alias). Default: the clock-in sheet's. */
    columns: z
      .record(z.string(), z.array(z.string().min(1)))
      .default(() => Object.fromEntries(Object.entries(CLOCKIN_COLUMNS).map(([k, v]) => [k, [...v]]))),
    /** Columns (canonical or alias) a workbook version must have, else it is one dead letter. Default: all but the name. */
    required: z.array(z.string().min(1)).default([...CLOCKIN_REQUIRED]),
    /** Canonical columns never copied into dead letters (personal data). Default `['name']`. */
    private: z.array(z.string().min(1)).default(['name']),
    /** Pause between polls, ms. Default 2000. */
    pollMs: z.number().int().positive().default(2000),
  })
  .superRefine((c, ctx) => {
    for (const [field, names] of [
      ['key', c.key],
      ['required', c.required],
    ] as const) {
      for (const n of names)
        if (canonicalOf(c.columns, n) === null)
          ctx.addIssue({ code: 'custom', path: [field], message: `"${n}" is not a declared column or alias` });
    }
  });

interface Version {
  ino: number;
  mtimeMs: number;
  size: number;
}
const sameVersion = (a: Version, b: Version | undefined) =>
  !!b && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;

/**
 * Workbooks rewritten in place (the clock-in sheets) → signed row events. Each poll re-reads the
 * workbooks whose (inode, mtime, size) moved and whose sha256 changed, maps headers through the
 * declared aliases, and diffs rows by key against the previous snapshot kept in the connector
 * state: new row → assertion, changed row → retraction + assertion, vanished row → retraction.
 * The state (with per-row versions) is saved only after the log acknowledged, so a crash re-diffs
 * from the old snapshot and re-publishes the same ids.
 */
export const excelSource = defineConnector({
  kind: 'excel',
  config: configSchema,
  create(config, ctx) {
    const schema = config.map
      ? {
          type: config.map.type as string,
          parse: (cells: Parameters<typeof clockinRow>[0]) => mapRecord(config.map!, cells),
          entity: undefined,
        }
      : rowSchemas[config.rowSchema];
    const canon = (names: readonly string[]) => names.map((n) => canonicalOf(config.columns, n)!);
    const opts = {
      sheet: config.sheet,
      columns: config.columns,
      required: canon(config.required),
      key: canon(config.key),
      private: config.private,
      type: schema.type,
      parse: schema.parse,
    };
    const matches = fileNameMatcher(config.pattern);
    // The saved state, as last saved by this instance; reloaded after any failure (never ahead of Postgres).
    let cache: State | null = null;

    async function listFiles(): Promise<string[]> {
      const names = await readdir(config.directory).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      return names.filter((n) => matches.test(n)).sort();
    }

    async function loadState(): Promise<State> {
      const raw = await readState<unknown>(ctx.pool, ctx.schema, ctx.name);
      if (raw === null) return { files: {} };
      const parsed = stateSchema.safeParse(raw);
      if (!parsed.success)
        throw new MillraceError(
          'CHECKPOINT_INVALID',
          `excel ${ctx.name}: saved state is not an excel state: ${parsed.error.message}`,
        );
      return parsed.data;
    }

    /** Read the next changed workbook, publish its row changes, save the state; true when one was read. */
    async function tick(): Promise<boolean> {
      const state = cache ?? (await loadState());
      cache = state;
      for (const file of await listFiles()) {
        const fh = await open(join(config.directory, file), 'r').catch(() => null); // vanished since the listing
        if (!fh) continue;
        let buf: Buffer;
        let version: Version;
        try {
          const st = await fh.stat();
          version = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
          if (sameVersion(version, state.files[file])) continue;
          buf = await fh.readFile();
        } finally {
          await fh.close();
        }
        const sha256 = createHash('sha256').update(buf).digest('hex');
        const prev: FileState = state.files[file] ?? { ...version, sha256: '', rows: {} };
        let events: Envelope[] = [];
        let dead: DeadLetter[] = [];
        let rows = prev.rows;
        let entities = prev.entities;
        if (sha256 !== prev.sha256) {
          const sheet = await readSheet(buf, opts);
          if (typeof sheet === 'string') dead = [{ position: `${file}@${sha256.slice(0, 8)}`, raw: '', reason: sheet }];
          else {
            // No such column in this version: no entities from it (the kept ones stay as they are).
            const entity = schema.entity && sheet.present.includes(schema.entity.column) ? schema.entity : undefined;
            ({ events, dead, rows, entities } = diffWorkbook(
              file,
              prev.rows,
              sheet.rows,
              { ...opts, entity },
              prev.entities,
            ));
          }
        }
        for (let i = 0; i < events.length; i += PUBLISH_CHUNK) {
          await ctx.log.publish(
            events.slice(i, i + PUBLISH_CHUNK).map((e) => ({ key: e.key, value: JSON.stringify(e) })),
          );
        }
        const next: State = {
          files: { ...state.files, [file]: { ...version, sha256, rows, ...(entities ? { entities } : {}) } },
        };
        await saveState(ctx.pool, ctx.schema, {
          connector: ctx.name,
          source: `excel:${file}`,
          state: next,
          events: events.length,
          deadLetters: dead,
        });
        cache = next;
        return true;
      }
      return false;
    }

    return createPollingConnector({
      kind: 'excel',
      ctx,
      pollMs: config.pollMs,
      tick,
      onFailure: () => (cache = null),
      async position() {
        const state = cache ?? (await loadState());
        // In workbooks: the end is every matching workbook, the position those read as they are now.
        let read = 0;
        const files = await listFiles();
        for (const file of files) {
          const st = await stat(join(config.directory, file)).catch(() => null);
          if (st && sameVersion({ ino: st.ino, mtimeMs: st.mtimeMs, size: st.size }, state.files[file])) read++;
        }
        return { lag: files.length - read, positions: [read], sourceEnd: [files.length] };
      },
    });
  },
});
