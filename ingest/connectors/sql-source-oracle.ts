import { createRequire } from 'node:module';
import type { Cursor, PollSpec, SqlSourceClient } from './sql-source.ts';

// The oracledb package ships no type declarations (and @types/oracledb is not a dependency):
// the few calls used here are typed by hand.
interface OraConnection {
  execute(
    sql: string,
    binds?: Record<string, unknown>,
    opts?: Record<string, unknown>,
  ): Promise<{ rows?: Array<Record<string, unknown>> }>;
  close(): Promise<void>;
}
interface OracleDb {
  createPool(
    cfg: Record<string, unknown>,
  ): Promise<{ getConnection(): Promise<OraConnection>; close(drainTime?: number): Promise<void> }>;
  OUT_FORMAT_OBJECT: number;
  STRING: number;
  DB_TYPE_DATE: unknown;
  DB_TYPE_TIMESTAMP: unknown;
}
const oracledb = createRequire(import.meta.url)('oracledb') as OracleDb;

const FMT = `'YYYY-MM-DD HH24:MI:SS.FF6'`;

/** `oracle://user:password@host:1521/service` → thin-mode pool config. */
export function oracleConnectConfig(url: string) {
  const u = new URL(url);
  return {
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    connectString: `${u.hostname}:${u.port || 1521}${u.pathname}`,
  };
}

/**
 * Oracle (12c or later: FETCH FIRST), thin mode. The watermark column must be a TIMESTAMP holding
 * UTC. DATE and TIMESTAMP values are fetched as text in a fixed session format, so nothing is
 * shifted by the client's time zone; column names come back upper-case and are lowered.
 */
export function createOracleSourceClient(url: string): SqlSourceClient {
  let pool: ReturnType<OracleDb['createPool']> | null = null;
  async function withConn<T>(fn: (c: OraConnection) => Promise<T>): Promise<T> {
    pool ??= oracledb.createPool({ ...oracleConnectConfig(url), poolMax: 2 });
    const c = await (await pool).getConnection();
    try {
      await c.execute(
        `ALTER SESSION SET NLS_TIMESTAMP_FORMAT = ${FMT} NLS_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS' TIME_ZONE = '+00:00'`,
      );
      return await fn(c);
    } finally {
      await c.close();
    }
  }
  const opts = {
    outFormat: oracledb.OUT_FORMAT_OBJECT,
    fetchTypeHandler: (m: { dbType: unknown }) =>
      m.dbType === oracledb.DB_TYPE_DATE || m.dbType === oracledb.DB_TYPE_TIMESTAMP
        ? { type: oracledb.STRING }
        : undefined,
  };
  // `(wm, key) > (:wm, :k)` spelled out: Oracle has no row-value `<`/`>` (only `=`/IN); the OR form is
  // what its optimizer turns into index ranges on (wm, key). PostgreSQL uses the row value (sql-source-client.ts).
  const after = (s: PollSpec) =>
    `(${s.watermarkColumn} > TO_TIMESTAMP(:wm, ${FMT}) OR (${s.watermarkColumn} = TO_TIMESTAMP(:wm, ${FMT}) AND ${s.keyColumn} > :k))`;
  const curBinds = (c: Cursor | null) => (c ? { wm: c.wm, k: c.key } : {});

  return {
    poll: (s, cursor) =>
      withConn(async (c) => {
        const where = `${s.watermarkColumn} <= SYS_EXTRACT_UTC(SYSTIMESTAMP) - NUMTODSINTERVAL(:lag / 1000, 'SECOND')${cursor ? ` AND ${after(s)}` : ''}`;
        const r = await c.execute(
          `SELECT ${s.columns.join(', ')}, TO_CHAR(${s.watermarkColumn}, ${FMT}) AS "__wm", TO_CHAR(${s.keyColumn}) AS "__key" FROM ${s.table}
           WHERE ${where} ORDER BY ${s.watermarkColumn}, ${s.keyColumn} FETCH FIRST :n ROWS ONLY`,
          { lag: s.lagWindowMs, n: s.batch, ...curBinds(cursor) },
          opts,
        );
        return (r.rows ?? []).map((x) => ({
          cursor: { wm: String(x.__wm), key: String(x.__key) },
          row: Object.fromEntries(s.columns.map((col) => [col.toLowerCase(), x[col.toUpperCase()] ?? x[col] ?? null])),
        }));
      }),
    pending: (s, cursor) =>
      withConn(async (c) => {
        // Rows stamped in the future are not readable yet: not lag.
        const r = await c.execute(
          `SELECT count(*) AS "n" FROM ${s.table} WHERE ${s.watermarkColumn} <= SYSTIMESTAMP${cursor ? ` AND ${after(s)}` : ''}`,
          curBinds(cursor),
          opts,
        );
        return Number(r.rows?.[0]?.n ?? 0);
      }),
    async close() {
      const p = pool;
      pool = null;
      if (p) await (await p).close(0);
    },
  };
}
