import { createRequire } from 'node:module';
import {
  archiveValues,
  ARCHIVE_COLUMNS,
  chunks,
  resolveTables,
  workOrderFromRow,
  workOrderValues,
  WORK_ORDER_COLUMNS,
  type SqlEngine,
  type SqlEngineTables,
} from './sql-engine-rows.ts';

// The oracledb package ships no type declarations (and @types/oracledb is not a dependency):
// the few calls used here are typed by hand.
interface OraConnection {
  execute(
    sql: string,
    binds?: unknown[] | Record<string, unknown>,
    opts?: Record<string, unknown>,
  ): Promise<{ rows?: Array<Record<string, unknown>>; rowsAffected?: number }>;
  executeMany(sql: string, binds: unknown[][], opts?: Record<string, unknown>): Promise<{ rowsAffected?: number }>;
  close(): Promise<void>;
}
interface OraPool {
  getConnection(): Promise<OraConnection>;
  close(drainTime?: number): Promise<void>;
}
interface OracleDb {
  createPool(cfg: Record<string, unknown>): Promise<OraPool>;
  OUT_FORMAT_OBJECT: number;
}
const oracledb = createRequire(import.meta.url)('oracledb') as OracleDb;

/** `oracle://user:password@host:1521/service` → thin-mode pool config. */
export function oracleConfig(url: string): { user: string; password: string; connectString: string } {
  const u = new URL(url);
  return {
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    connectString: `${u.hostname}:${u.port || 1521}${u.pathname}`,
  };
}

const TS = `'YYYY-MM-DD HH24:MI:SS.FF3'`;

/**
 * Oracle as the work orders' store (MYCPU.md), through node-oracledb in thin mode (no Instant
 * Client). Timestamps are TIMESTAMP(3) holding UTC and travel as text in one fixed format.
 * Runs only where a server is configured (ORACLE_URL); its test skips otherwise.
 */
export function createOracleEngine(url: string, opts: { tables?: Partial<SqlEngineTables> } = {}): SqlEngine {
  const tables = resolveTables(opts.tables);
  const a = tables.archive;
  const w = tables.workOrders;
  let pool: Promise<OraPool> | null = null;
  async function withConn<T>(fn: (c: OraConnection) => Promise<T>): Promise<T> {
    pool ??= oracledb.createPool({ ...oracleConfig(url), poolMax: 4 });
    const c = await (await pool).getConnection();
    try {
      return await fn(c);
    } finally {
      await c.close();
    }
  }
  // CREATE TABLE has no IF NOT EXISTS before 23ai: ignore ORA-00955 (name already used).
  const createIfMissing = (ddl: string) =>
    `BEGIN EXECUTE IMMEDIATE '${ddl}'; EXCEPTION WHEN OTHERS THEN IF SQLCODE != -955 THEN RAISE; END IF; END;`;
  const dropIfExists = (t: string) =>
    `BEGIN EXECUTE IMMEDIATE 'DROP TABLE ${t} PURGE'; EXCEPTION WHEN OTHERS THEN IF SQLCODE != -942 THEN RAISE; END IF; END;`;

  return {
    dialect: 'oracle',
    tables,
    ensure: () =>
      withConn(async (c) => {
        await c.execute(
          createIfMissing(`CREATE TABLE ${a} (event_id VARCHAR2(200) PRIMARY KEY, kind VARCHAR2(10) NOT NULL,
          part_id VARCHAR2(100) NOT NULL, station VARCHAR2(40) NOT NULL, machine VARCHAR2(100) NOT NULL, operator VARCHAR2(100) NOT NULL,
          at TIMESTAMP(3) NOT NULL, next_station VARCHAR2(40), error_code VARCHAR2(40), cycle_time_ms NUMBER(19),
          archived_at TIMESTAMP(3) DEFAULT SYS_EXTRACT_UTC(SYSTIMESTAMP) NOT NULL)`),
        );
        await c.execute(
          createIfMissing(`CREATE TABLE ${w} (wo_id VARCHAR2(100) PRIMARY KEY, sku VARCHAR2(100) NOT NULL,
          planned_qty NUMBER(10) NOT NULL, due_date DATE NOT NULL, updated_at TIMESTAMP(3) NOT NULL)`),
        );
        await c.execute(createIfMissing(`CREATE INDEX ${w}_updated ON ${w} (updated_at, wo_id)`));
      }),
    insertArchive: (events) =>
      withConn(async (c) => {
        let inserted = 0;
        const src = ARCHIVE_COLUMNS.map((col, i) =>
          col === 'at' ? `TO_TIMESTAMP(:${i + 1}, ${TS}) at` : `:${i + 1} ${col}`,
        ).join(', ');
        for (const part of chunks(events, 1000)) {
          const r = await c.executeMany(
            `MERGE INTO ${a} t USING (SELECT ${src} FROM dual) s ON (t.event_id = s.event_id)
             WHEN NOT MATCHED THEN INSERT (${ARCHIVE_COLUMNS.join(', ')}) VALUES (${ARCHIVE_COLUMNS.map((col) => `s.${col}`).join(', ')})`,
            part.map(archiveValues),
            { autoCommit: true },
          );
          inserted += r.rowsAffected ?? 0;
        }
        return inserted;
      }),
    upsertWorkOrders: (rows) =>
      withConn(async (c) => {
        if (rows.length === 0) return;
        // executeMany with autoCommit commits once, after the last row: one transaction per hour.
        await c.executeMany(
          `MERGE INTO ${w} t USING (SELECT :1 wo_id, :2 sku, :3 planned_qty, TO_DATE(:4, 'YYYY-MM-DD') due_date, TO_TIMESTAMP(:5, ${TS}) updated_at FROM dual) s
           ON (t.wo_id = s.wo_id)
           WHEN MATCHED THEN UPDATE SET t.sku = s.sku, t.planned_qty = s.planned_qty, t.due_date = s.due_date, t.updated_at = s.updated_at
             WHERE s.updated_at >= t.updated_at
           WHEN NOT MATCHED THEN INSERT (${WORK_ORDER_COLUMNS.join(', ')}) VALUES (s.wo_id, s.sku, s.planned_qty, s.due_date, s.updated_at)`,
          rows.map(workOrderValues),
          { autoCommit: true },
        );
      }),
    readWorkOrders: () =>
      withConn(async (c) => {
        const r = await c.execute(
          `SELECT wo_id, sku, planned_qty, TO_CHAR(due_date, 'YYYY-MM-DD') due_date, TO_CHAR(updated_at, ${TS}) updated_at FROM ${w} ORDER BY wo_id`,
          [],
          { outFormat: oracledb.OUT_FORMAT_OBJECT },
        );
        return (r.rows ?? []).map(workOrderFromRow);
      }),
    dropTables: () =>
      withConn(async (c) => {
        await c.execute(dropIfExists(a));
        await c.execute(dropIfExists(w));
      }),
    async close() {
      const p = pool;
      pool = null;
      if (p) await (await p).close(0);
    },
  };
}
