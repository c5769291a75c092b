/**
 * SQL Server Change Tracking → the log. Each pass reads `CHANGETABLE(CHANGES t, @last)` joined to
 * the table, up to the current version, ordered by SYS_CHANGE_VERSION, publishes, then saves the
 * version. Change Tracking gives net changes (one row per changed key, current values) and sees
 * deletes, which a watermark poll cannot; it needs only `VIEW CHANGE TRACKING` on the table.
 * When the saved version is older than CHANGE_TRACKING_MIN_VALID_VERSION (cleanup passed it, or
 * first start) the table is re-read in full and emitted as upserts: ids come from the content
 * (`updated_at`, event id), so rows already sent collapse in the loader. Deletes become
 * `entity.delete` (mappings without a delete, such as the append-only archive, ignore them).
 * Tested only where a server is configured (MSSQL_URL); see sql-server-ct.test.ts.
 */
import mssql from 'mssql';
import { z } from 'zod';
import { MillraceError } from '../../lib/errors.ts';
import { readState, saveState, type DeadLetter } from '../checkpoints.ts';
import { defineConnector, type ConnectorContext } from '../define-connector.ts';
import type { Envelope } from '../envelope.ts';
import { createPollingConnector } from '../polling-connector.ts';
import { rowMappingNames, rowMappings } from './sql-mappings.ts';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain SQL identifier');

export const sqlServerCtConfig = z.object({
  /** `mssql://user:password@host:1433/database?encrypt=true&trustServerCertificate=true`. */
  url: z.string().min(1),
  /** Table with Change Tracking enabled, optionally schema-qualified (`dbo.work_orders`). */
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/),
  /** Columns to select; must include those the mapping reads. */
  columns: z.array(identifier).min(1),
  /** The primary key column (single-column keys only). */
  keyColumn: identifier,
  /** Row → envelope mapping. */
  mapping: z.enum(rowMappingNames),
  /** Pause between passes once caught up, ms. Default 1000. */
  pollMs: z.number().int().positive().default(1000),
  /** Most envelopes per publish. Default 1000. */
  batch: z.number().int().positive().default(1000),
});
export type SqlServerCtConfig = z.infer<typeof sqlServerCtConfig>;

export function mssqlConnectConfig(url: string): mssql.config {
  const u = new URL(url);
  const flag = (k: string, d: boolean) => (u.searchParams.has(k) ? u.searchParams.get(k) === 'true' : d);
  return {
    server: u.hostname,
    port: u.port ? Number(u.port) : 1433,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.replace(/^\//, '') || undefined,
    pool: { max: 2 },
    options: { encrypt: flag('encrypt', false), trustServerCertificate: flag('trustServerCertificate', true) },
  };
}

interface CtState {
  version: number;
}

/** One Change Tracking pass at a time (the connector's loop; tests drive it directly). */
export function createCtReader(
  config: SqlServerCtConfig,
  ctx: Pick<ConnectorContext, 'name' | 'pool' | 'schema' | 'log'>,
) {
  const mapping = rowMappings[config.mapping];
  const missing = mapping.columns.filter((c) => !config.columns.map((x) => x.toLowerCase()).includes(c));
  if (missing.length > 0)
    throw new MillraceError(
      'CONFIG',
      `sql-server-ct ${ctx.name}: columns lack ${missing.join(', ')} (mapping ${config.mapping})`,
    );
  const sourceName = `sqlserver:${config.table}`;
  const t = config.table;
  const k = config.keyColumn;
  const cols = config.columns.map((c) => `t.${c} AS ${c}`).join(', ');
  let pool: Promise<mssql.ConnectionPool> | null = null;
  const q = async (text: string, params: Record<string, number | string> = {}) => {
    pool ??= new mssql.ConnectionPool(mssqlConnectConfig(config.url)).connect();
    const req = (await pool).request();
    for (const [name, v] of Object.entries(params))
      req.input(name, typeof v === 'number' ? mssql.BigInt : mssql.NVarChar(400), v);
    return (await req.query(text)).recordset as Array<Record<string, unknown>>;
  };
  const versions = async () => {
    const [r] = await q(
      `SELECT CHANGE_TRACKING_CURRENT_VERSION() AS cur, CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@t)) AS minv,
      DATEDIFF_BIG(millisecond, '19700101', SYSUTCDATETIME()) AS now_ms`,
      { t },
    );
    if (r.cur === null || r.minv === null)
      throw new MillraceError('CONFIG', `sql-server-ct ${ctx.name}: Change Tracking is not enabled on ${t}`);
    return { cur: Number(r.cur), minv: Number(r.minv), nowMs: Number(r.now_ms) };
  };
  const lower = (r: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(r).map(([key, v]) => [key.toLowerCase(), v]));

  const publish = async (events: Envelope[]) => {
    for (let i = 0; i < events.length; i += config.batch) {
      await ctx.log.publish(events.slice(i, i + config.batch).map((e) => ({ key: e.key, value: JSON.stringify(e) })));
    }
  };
  /** Saved once per pass, after everything of the pass was acknowledged by the log. */
  const finish = (state: CtState, events: number, dead: DeadLetter[]) =>
    saveState(ctx.pool, ctx.schema, { connector: ctx.name, source: sourceName, state, events, deadLetters: dead }).then(
      () => events + dead.length,
    );

  /** Re-read the whole table in key order, a page at a time (the archive can be large). */
  async function resync(version: number): Promise<number> {
    const dead: DeadLetter[] = [];
    let published = 0;
    for (let after: string | null = null; ;) {
      const page = await q(
        `SELECT TOP (@n) ${cols}, CAST(t.${k} AS NVARCHAR(400)) AS __key FROM ${t} AS t ${after === null ? '' : `WHERE t.${k} > @after`} ORDER BY t.${k}`,
        after === null ? { n: config.batch } : { n: config.batch, after },
      );
      const events: Envelope[] = [];
      for (const r of page) mapRow(lower(r), String(r.__key), events, dead);
      await publish(events);
      published += events.length;
      if (page.length < config.batch) break;
      after = String(page[page.length - 1].__key);
    }
    return finish({ version }, published, dead);
  }

  function mapRow(row: Record<string, unknown>, key: string, events: Envelope[], dead: DeadLetter[]): void {
    const env = mapping.upsert(row, sourceName);
    if (typeof env === 'string') dead.push({ position: `${t}:${key}`, raw: JSON.stringify(row), reason: env });
    else events.push(env);
  }

  return {
    source: sourceName,
    /** One pass: a full resync or the changes since the saved version. Resolves to changes handled. */
    async pollOnce(): Promise<number> {
      const saved = await readState<CtState>(ctx.pool, ctx.schema, ctx.name);
      const v = await versions();
      // The version is read before the table: whatever commits after it comes from Change Tracking next.
      if (saved === null || saved.version < v.minv) return resync(v.cur);
      if (v.cur <= saved.version) return 0;
      const changes = await q(
        `SELECT ct.SYS_CHANGE_VERSION AS __ver, ct.SYS_CHANGE_OPERATION AS __op, CAST(ct.${k} AS NVARCHAR(400)) AS __key, ${cols}
         FROM CHANGETABLE(CHANGES ${t}, @last) AS ct LEFT JOIN ${t} AS t ON t.${k} = ct.${k}
         WHERE ct.SYS_CHANGE_VERSION <= @cur ORDER BY ct.SYS_CHANGE_VERSION, ct.${k}`,
        { last: saved.version, cur: v.cur },
      );
      // Cleanup may have run while we read: the result can be incomplete; the next pass resyncs.
      if ((await versions()).minv > saved.version) return 0;
      const events: Envelope[] = [];
      const dead: DeadLetter[] = [];
      for (const c of changes) {
        const key = String(c.__key);
        const row = lower(c);
        if (c.__op === 'D') {
          const ver = String(c.__ver);
          const del = mapping.delete?.(
            { key, idSuffix: `ct${ver}`, version: `${v.nowMs}:ct${ver}`, eventTime: v.nowMs },
            sourceName,
          );
          if (del) events.push(del);
        } else if (row[k.toLowerCase()] !== null && row[k.toLowerCase()] !== undefined) mapRow(row, key, events, dead);
      }
      await publish(events);
      return finish({ version: v.cur }, events.length, dead);
    },
    async status(): Promise<{ position: number; end: number; lag: number }> {
      const saved = await readState<CtState>(ctx.pool, ctx.schema, ctx.name);
      const v = await versions();
      if (saved === null || saved.version < v.minv)
        return {
          position: saved?.version ?? 0,
          end: v.cur,
          lag: Number((await q(`SELECT COUNT(*) AS n FROM ${t}`))[0].n),
        };
      const [r] = await q(`SELECT COUNT(*) AS n FROM CHANGETABLE(CHANGES ${t}, @last) AS ct`, { last: saved.version });
      return { position: saved.version, end: v.cur, lag: Number(r.n) };
    },
    async close() {
      const p = pool;
      pool = null;
      if (p) await (await p).close();
    },
  };
}

export const sqlServerCt = defineConnector({
  kind: 'sql-server-ct',
  config: sqlServerCtConfig,
  create(config, ctx) {
    const reader = createCtReader(config, ctx);
    return createPollingConnector({
      kind: 'sql-server-ct',
      ctx,
      pollMs: config.pollMs,
      tick: async () => {
        await reader.pollOnce();
        return false;
      },
      close: () => reader.close(),
      async position() {
        const s = await reader.status();
        return { lag: s.lag, positions: [s.position], sourceEnd: [s.end] };
      },
    });
  },
});
