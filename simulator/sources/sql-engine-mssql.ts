import mssql from 'mssql';
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

/** `mssql://user:password@host:1433/database?encrypt=true&trustServerCertificate=true` → driver config. */
export function mssqlConfig(url: string): mssql.config {
  const u = new URL(url);
  const flag = (k: string, d: boolean) => (u.searchParams.has(k) ? u.searchParams.get(k) === 'true' : d);
  return {
    server: u.hostname,
    port: u.port ? Number(u.port) : 1433,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.replace(/^\//, '') || undefined,
    options: { encrypt: flag('encrypt', false), trustServerCertificate: flag('trustServerCertificate', true) },
    pool: { max: 4 },
  };
}

/**
 * SQL Server as the machining archive's store (MYCPU.md). Timestamps are DATETIME2(3) holding UTC.
 * Both tables get Change Tracking (the `sql-server-ct` connector reads it); rows travel as one
 * JSON parameter through OPENJSON, so a batch is one parameterised statement, atomic on its own.
 * Runs only where a server is configured (MSSQL_URL); its test skips otherwise.
 */
export function createMssqlEngine(url: string, opts: { tables?: Partial<SqlEngineTables> } = {}): SqlEngine {
  const tables = resolveTables(opts.tables);
  const a = tables.archive;
  const w = tables.workOrders;
  let pool: Promise<mssql.ConnectionPool> | null = null;
  const connect = () => (pool ??= new mssql.ConnectionPool(mssqlConfig(url)).connect());
  const run = async (text: string, json?: unknown) => {
    const req = (await connect()).request();
    if (json !== undefined) req.input('rows', mssql.NVarChar(mssql.MAX), JSON.stringify(json));
    return req.query(text);
  };
  const ct = (t: string) =>
    `IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_tables WHERE object_id = OBJECT_ID(N'${t}')) ALTER TABLE ${t} ENABLE CHANGE_TRACKING`;
  const asObject = (cols: readonly string[], vals: unknown[]) => Object.fromEntries(cols.map((c, i) => [c, vals[i]]));

  return {
    dialect: 'mssql',
    tables,
    async ensure() {
      await run(`IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_databases WHERE database_id = DB_ID())
        ALTER DATABASE CURRENT SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)`);
      await run(`IF OBJECT_ID(N'${a}') IS NULL CREATE TABLE ${a} (
        event_id NVARCHAR(200) NOT NULL PRIMARY KEY, kind NVARCHAR(10) NOT NULL, part_id NVARCHAR(100) NOT NULL,
        station NVARCHAR(40) NOT NULL, machine NVARCHAR(100) NOT NULL, operator NVARCHAR(100) NOT NULL, at DATETIME2(3) NOT NULL,
        next_station NVARCHAR(40) NULL, error_code NVARCHAR(40) NULL, cycle_time_ms BIGINT NULL,
        archived_at DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME())`);
      await run(`IF OBJECT_ID(N'${w}') IS NULL CREATE TABLE ${w} (
        wo_id NVARCHAR(100) NOT NULL PRIMARY KEY, sku NVARCHAR(100) NOT NULL, planned_qty INT NOT NULL,
        due_date DATE NOT NULL, updated_at DATETIME2(3) NOT NULL)`);
      await run(ct(a));
      await run(ct(w));
    },
    async insertArchive(events) {
      let inserted = 0;
      for (const part of chunks(events, 1000)) {
        const r = await run(
          `INSERT INTO ${a} (${ARCHIVE_COLUMNS.join(', ')})
           SELECT j.* FROM OPENJSON(@rows) WITH (event_id NVARCHAR(200), kind NVARCHAR(10), part_id NVARCHAR(100), station NVARCHAR(40),
             machine NVARCHAR(100), operator NVARCHAR(100), at DATETIME2(3), next_station NVARCHAR(40), error_code NVARCHAR(40), cycle_time_ms BIGINT) j
           WHERE NOT EXISTS (SELECT 1 FROM ${a} x WHERE x.event_id = j.event_id)`,
          part.map((ev) => asObject(ARCHIVE_COLUMNS, archiveValues(ev))),
        );
        inserted += r.rowsAffected[0] ?? 0;
      }
      return inserted;
    },
    async upsertWorkOrders(rows) {
      if (rows.length === 0) return;
      await run(
        `MERGE ${w} AS t USING (SELECT * FROM OPENJSON(@rows) WITH (wo_id NVARCHAR(100), sku NVARCHAR(100), planned_qty INT, due_date DATE, updated_at DATETIME2(3))) AS s
         ON t.wo_id = s.wo_id
         WHEN MATCHED AND s.updated_at >= t.updated_at THEN UPDATE SET sku = s.sku, planned_qty = s.planned_qty, due_date = s.due_date, updated_at = s.updated_at
         WHEN NOT MATCHED THEN INSERT (${WORK_ORDER_COLUMNS.join(', ')}) VALUES (s.wo_id, s.sku, s.planned_qty, s.due_date, s.updated_at);`,
        rows.map((wo) => asObject(WORK_ORDER_COLUMNS, workOrderValues(wo))),
      );
    },
    async readWorkOrders() {
      const r = await run(`SELECT wo_id, sku, planned_qty, CONVERT(char(10), due_date, 23) AS due_date,
        CONVERT(char(23), updated_at, 121) AS updated_at FROM ${w} ORDER BY wo_id`);
      return r.recordset.map(workOrderFromRow);
    },
    async dropTables() {
      await run(`DROP TABLE IF EXISTS ${a}; DROP TABLE IF EXISTS ${w};`);
    },
    async close() {
      const p = pool;
      pool = null;
      if (p) await (await p).close();
    },
  };
}
