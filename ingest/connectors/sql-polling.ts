/**
 * Reads a table of "another SQL engine" (PostgreSQL, MariaDB/MySQL, Oracle) by polling on a
 * watermark column: `WHERE (wm, key) > (:lastWm, :lastKey) AND wm <= now() - lagWindow
 * ORDER BY wm, key LIMIT batch`.
 * - The (wm, key) tiebreak: many rows share one timestamp (a sync job stamps its whole transaction
 *   with one time); a plain `wm > :lastWm` would skip those after a batch boundary.
 * - The lag window: a transaction can commit after a later-stamped one (the stamp is taken before
 *   commit), so rows newer than `now() - lagWindow` are not read yet; a row is missed only if
 *   its transaction stays open longer than the window.
 * - Why not the engines' change logs: Oracle LogMiner/GoldenGate/XStream need extra licences or
 *   DBA privileges (LOGMINING, SELECT ANY TRANSACTION) and supplemental logging switched on for
 *   the database — rarely granted to a reporting reader of an ERP. A watermark query needs only
 *   SELECT on one table and an index on (wm, key). It sees no deletes (work orders are not
 *   deleted); SQL Server has Change Tracking for that (`sql-server-ct`).
 * The cursor is saved (with the batch's dead letters) only after the log acknowledged the batch.
 */
import { z } from 'zod';
import { MillraceError } from '../../lib/errors.ts';
import { createPollingConnector } from '../polling-connector.ts';
import { readState, saveState, type DeadLetter } from '../checkpoints.ts';
import { skipState } from '../skip-position.ts';
import type { ConnectorContext } from '../define-connector.ts';
import { defineConnector } from '../define-connector.ts';
import { unpublishable, type Envelope } from '../envelope.ts';
import { rowMappingNames, rowMappings } from './sql-mappings.ts';
import { createSqlSourceClient, type Cursor, type PollSpec, type SqlSourceClient } from './sql-source-client.ts';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'a plain SQL identifier');

export const sqlPollingConfig = z.object({
  /** Engine of the source table. */
  dialect: z.enum(['postgres', 'mariadb', 'oracle']),
  /** Connection URL (postgres://, mysql://, oracle://user:pw@host:1521/service). */
  url: z.string().min(1),
  /** Table, optionally schema-qualified. */
  table: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'a plain or schema-qualified table name'),
  /** Columns to select; must include those the mapping reads. */
  columns: z.array(identifier).min(1),
  /** Timestamp column rows are ordered and resumed by (UTC; indexed together with the key). */
  watermarkColumn: identifier,
  /** Unique key column: the tiebreak among equal watermarks, and a dead letter's position. */
  keyColumn: identifier,
  /** Rows younger than this (by the database's clock) wait, ms. Default 5000. */
  lagWindowMs: z.number().int().nonnegative().default(5000),
  /** Pause between polls once caught up, ms. Default 1000. */
  pollMs: z.number().int().positive().default(1000),
  /** Most rows per poll (and per publish). Default 1000. */
  batch: z.number().int().positive().default(1000),
  /** Row → envelope mapping. */
  mapping: z.enum(rowMappingNames),
});
export type SqlPollingConfig = z.infer<typeof sqlPollingConfig>;

interface PollState {
  cursor: Cursor | null;
}

/** The polling core, one batch at a time (the connector's loop; tests drive it directly). */
export function createSqlPoller(
  config: SqlPollingConfig,
  ctx: Pick<ConnectorContext, 'name' | 'pool' | 'schema' | 'log'>,
  client?: SqlSourceClient,
) {
  const mapping = rowMappings[config.mapping];
  const cols = config.columns.map((c) => c.toLowerCase());
  const missing = mapping.columns.filter((c) => !cols.includes(c));
  if (missing.length > 0)
    throw new MillraceError(
      'CONFIG',
      `sql-polling ${ctx.name}: columns lack ${missing.join(', ')} (mapping ${config.mapping})`,
    );
  const source = client ?? createSqlSourceClient(config.dialect, config.url);
  const sourceName = `sql:${config.dialect}:${config.table}`;
  const spec: PollSpec = config;
  let cursor: Cursor | null | undefined; // undefined: not read from connector_state yet

  const loadCursor = async () =>
    (cursor ??= (await readState<PollState>(ctx.pool, ctx.schema, ctx.name))?.cursor ?? null);

  return {
    source: sourceName,
    /** Read, publish and checkpoint one batch; resolves to the rows read (0 when caught up). */
    async pollOnce(): Promise<number> {
      const from = await loadCursor();
      const rows = await source.poll(spec, from);
      if (rows.length === 0) return 0;
      const out: Array<{ key: string; value: string }> = [];
      const dead: DeadLetter[] = [];
      for (const r of rows) {
        const env = mapping.upsert(r.row, sourceName);
        const value = typeof env === 'string' ? null : JSON.stringify(env);
        const reason = typeof env === 'string' ? env : unpublishable(value!);
        if (reason !== null)
          dead.push({ position: `${config.table}:${r.cursor.key}`, raw: JSON.stringify(r.row), reason });
        else out.push({ key: (env as Envelope).key, value: value! });
      }
      if (out.length > 0) await ctx.log.publish(out);
      const next = rows[rows.length - 1].cursor;
      await saveState(ctx.pool, ctx.schema, {
        connector: ctx.name,
        source: sourceName,
        state: { cursor: next } satisfies PollState,
        events: out.length,
        deadLetters: dead,
      });
      cursor = next;
      return rows.length;
    },
    /** Rows after the saved cursor (those inside the lag window included). */
    pending: async () => source.pending(spec, await loadCursor()),
    /** Forget the in-memory cursor (after a failure: the saved one is the truth). */
    reset: () => void (cursor = undefined),
    close: () => source.close(),
  };
}

export const sqlPolling = defineConnector({
  kind: 'sql-polling',
  config: sqlPollingConfig,
  reparse(config, raw) {
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch {
      return 'not JSON';
    }
    if (typeof row !== 'object' || row === null) return 'not a row';
    return rowMappings[config.mapping].upsert(row as Record<string, unknown>, `sql:${config.dialect}:${config.table}`);
  },
  async skip(config, target, to, note) {
    const comma = to.indexOf(',');
    if (comma <= 0 || comma === to.length - 1)
      throw new MillraceError(
        'BAD_POSITION',
        `--to ${JSON.stringify(to)}: expected WATERMARK,KEY of the last row to skip (its ${config.watermarkColumn} as the saved cursor writes it, and its ${config.keyColumn})`,
      );
    const cursor: Cursor = { wm: to.slice(0, comma), key: to.slice(comma + 1) };
    return skipState<PollState>({
      ...target,
      source: `sql:${config.dialect}:${config.table}`,
      note,
      move(state) {
        const from = state?.cursor ?? null;
        // Cursors compare as the poll query orders them only for one spelling of the watermark:
        // refuse what is not after the saved cursor in that spelling, and show it.
        if (from && (cursor.wm < from.wm || (cursor.wm === from.wm && cursor.key <= from.key)))
          throw new MillraceError(
            'BAD_POSITION',
            `connector ${target.connector} is already past ${from.wm},${from.key}; --to ${to} would not skip anything`,
          );
        const after = from ? `${from.wm},${from.key}` : 'the start';
        return {
          state: { cursor },
          position: `${config.table}:(${after})..(${to})`,
          skipped: `rows after ${after} through ${to}`,
          next: `after ${to}`,
        };
      },
    });
  },
  create(config, ctx) {
    const poller = createSqlPoller(config, ctx);
    // A full batch means more is waiting: read again at once; a failed pass re-reads from the saved cursor.
    return createPollingConnector({
      kind: 'sql-polling',
      ctx,
      pollMs: config.pollMs,
      tick: async () => (await poller.pollOnce()) >= config.batch,
      onFailure: () => poller.reset(),
      close: () => poller.close(),
      async position(t) {
        const lag = await poller.pending();
        // No numeric position exists for a watermark: rows read so far, and that plus rows pending.
        const read = t.events + t.deadLetters;
        return { lag, positions: [read], sourceEnd: [read + lag] };
      },
    });
  },
});
