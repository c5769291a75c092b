import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { MillraceError } from '../../lib/errors.ts';
import { readState, saveState, type DeadLetter } from '../checkpoints.ts';
import { skipState } from '../skip-position.ts';
import { defineConnector } from '../define-connector.ts';
import type { Envelope } from '../envelope.ts';
import { csvSchemas, parseCsvLine } from './csv-schemas.ts';
import { fileNameMatcher, readCompleteLines, resumeTail, TAIL_ENCODINGS, type TailState } from './file-tail.ts';
import { createPollingConnector } from '../polling-connector.ts';

const tailStateSchema = z.object({
  fingerprint: z.string(),
  fpLen: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  line: z.number().int().nonnegative(),
});
const savedSchema = z.object({ files: z.record(z.string(), tailStateSchema) });
type Saved = z.infer<typeof savedSchema>;

/** Postgres text cannot hold NUL; a dead letter keeps everything else of the line. */
const printable = (s: string) => s.replace(/\u0000/g, '\uFFFD');

/**
 * CSV files in a directory → the log, tailed like Filebeat: per file (by name) a fingerprint and
 * the offset of complete lines consumed. A new file is read from the start (daily rotation), a
 * truncated or rewritten one again from the start — its rows keep their content-derived ids, so
 * the loader keeps each once. Per batch: publish, then save all files' states with the dead letters.
 */
export const csvTail = defineConnector({
  kind: 'csv-tail',
  config: z.object({
    /** Directory holding the files. */
    directory: z.string().min(1),
    /** File names to tail: `^…` is a regular expression (e.g. `^energy-.*\.csv$`), anything else a glob (`energy-*.csv`). */
    pattern: z.string().min(1),
    /** Row schema of the files. */
    schema: z.enum(Object.keys(csvSchemas) as [keyof typeof csvSchemas]),
    /** Pause between polls when caught up, ms. Default 1000. */
    pollMs: z.number().int().positive().default(1000),
    /** Most bytes read per batch. Default 1 MiB. */
    maxBatchBytes: z
      .number()
      .int()
      .positive()
      .default(1 << 20),
    /** Text encoding of the files (a line not valid in it is a dead letter). Default `utf-8`. */
    encoding: z.enum(TAIL_ENCODINGS).default('utf-8'),
  }),
  reparse(config, raw, position) {
    const file = position.slice(0, position.lastIndexOf('#'));
    const fields = parseCsvLine(raw);
    return typeof fields === 'string' ? fields : csvSchemas[config.schema].toEnvelope(fields, file);
  },
  async skip(config, target, to, note) {
    const m = /^(.+)#(\d+)$/.exec(to);
    if (!m || basename(m[1]) !== m[1] || !fileNameMatcher(config.pattern).test(m[1]))
      throw new MillraceError(
        'BAD_POSITION',
        `--to ${JSON.stringify(to)}: expected FILE#LINE, the next line to read of a file matching ${config.pattern} (e.g. energy-2026-01-01.csv#120)`,
      );
    const [, name, lineText] = m;
    const next = Number(lineText);
    const path = join(config.directory, name);
    return skipState<Saved>({
      ...target,
      source: `csv:${path}`,
      note,
      async move(raw) {
        const saved = savedSchema.parse(raw ?? { files: {} });
        const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
          throw new MillraceError('BAD_POSITION', `--to ${to}: cannot open ${path}: ${err.code ?? err.message}`);
        });
        try {
          const { size } = await fh.stat();
          const { state } = await resumeTail(fh, size, saved.files[name]);
          if (next <= state.line + 1)
            throw new MillraceError(
              'BAD_POSITION',
              `connector ${target.connector} reads ${name} at line ${state.line + 1}; --to ${to} would not skip anything`,
            );
          // The byte offset of line `next`: just past the newline that ends the line before it.
          const skip = next - 1 - state.line;
          const buf = Buffer.alloc(size - state.offset);
          await fh.read(buf, 0, buf.length, state.offset);
          let offset = state.offset;
          let seen = 0;
          for (let i = buf.indexOf(0x0a); i >= 0 && seen < skip; i = buf.indexOf(0x0a, i + 1)) {
            seen++;
            offset = state.offset + i + 1;
          }
          if (seen < skip)
            throw new MillraceError(
              'BAD_POSITION',
              `--to ${to}: ${name} has ${state.line + seen} complete lines; line ${next} is not there yet`,
            );
          const from = state.line + 1;
          return {
            state: { files: { ...saved.files, [name]: { ...state, offset, line: next - 1 } } },
            position: `${name}#${from}-${next - 1}`,
            skipped: `lines ${from}..${next - 1} of ${name}`,
            next: `${name}#${next}`,
          };
        } finally {
          await fh.close();
        }
      },
    });
  },
  create(config, ctx) {
    const match = fileNameMatcher(config.pattern);
    const schema = csvSchemas[config.schema];
    let saved: Saved | null = null;

    async function load(): Promise<Saved> {
      if (saved) return saved;
      const raw = await readState<unknown>(ctx.pool, ctx.schema, ctx.name);
      const parsed = savedSchema.safeParse(raw ?? { files: {} });
      if (!parsed.success)
        throw new MillraceError(
          'CHECKPOINT_INVALID',
          `csv-tail ${ctx.name}: saved state is not a file-position map: ${parsed.error.message}`,
        );
      return (saved = parsed.data);
    }

    /** Matching file names, in name order (daily files: oldest first). A missing directory has none yet. */
    async function listFiles(): Promise<string[]> {
      const names = await readdir(config.directory).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      return names.filter((n) => match.test(n)).sort();
    }

    /** One batch of one file; true when the read stopped at maxBatchBytes (more is ready now). */
    async function step(name: string, files: Record<string, TailState>): Promise<boolean> {
      const fh = await open(join(config.directory, name), 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null; // rotated away between listing and opening
        throw err;
      });
      if (!fh) return false;
      try {
        const { size } = await fh.stat();
        const prev = files[name];
        const { state } = await resumeTail(fh, size, prev);
        const { lines, next } = await readCompleteLines(fh, size, state, config.maxBatchBytes, config.encoding);
        const changed =
          JSON.stringify(next) !== JSON.stringify(prev) ||
          Object.keys(files).length !== Object.keys(saved!.files).length;
        if (!changed) return false;
        const events: Envelope[] = [];
        const dead: DeadLetter[] = [];
        for (const l of lines) {
          if (l.text.trim() === '' || (l.no === 1 && l.text.trim() === schema.header)) continue;
          const fields = l.invalid ?? parseCsvLine(l.text);
          const env = typeof fields === 'string' ? fields : schema.toEnvelope(fields, name);
          if (typeof env === 'string') dead.push({ position: `${name}#${l.no}`, raw: printable(l.text), reason: env });
          else events.push(env);
        }
        if (events.length > 0) await ctx.log.publish(events.map((e) => ({ key: e.key, value: JSON.stringify(e) })));
        const after: Saved = { files: { ...files, [name]: next } };
        // Dead letters are unique by (source, position): the full path keeps two directories' same-named files apart.
        await saveState(ctx.pool, ctx.schema, {
          connector: ctx.name,
          source: `csv:${join(config.directory, name)}`,
          state: after,
          events: events.length,
          deadLetters: dead,
        });
        saved = after;
        files[name] = next;
        return size - state.offset > config.maxBatchBytes;
      } finally {
        await fh.close();
      }
    }

    async function tick(): Promise<boolean> {
      const current = await load();
      const names = await listFiles();
      // Files gone from the directory leave the state with the next save.
      const files = Object.fromEntries(Object.entries(current.files).filter(([n]) => names.includes(n)));
      let more = false;
      for (const name of names) more = (await step(name, files)) || more;
      return more;
    }

    return createPollingConnector({
      kind: 'csv-tail',
      ctx,
      pollMs: config.pollMs,
      tick,
      onFailure: () => (saved = null), // re-read the saved state: whatever failed is read again
      async position() {
        const raw = await readState<Saved>(ctx.pool, ctx.schema, ctx.name);
        let position = 0;
        let end = 0;
        for (const name of await listFiles()) {
          const size = await stat(join(config.directory, name)).then(
            (s) => s.size,
            () => 0,
          );
          const off = raw?.files?.[name]?.offset ?? 0;
          end += size;
          if (off <= size) position += off; // a file shorter than its offset was truncated: all of it is due
        }
        return { lag: Math.max(0, end - position), positions: [position], sourceEnd: [end] };
      },
    });
  },
});
