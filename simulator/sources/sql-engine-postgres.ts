import pg from 'pg';
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

/**
 * PostgreSQL as the "other SQL engine" of embedded mode, where no MariaDB, SQL Server or Oracle
 * runs: the same tables in a schema of their own, read by the same polling connector (dialect
 * `postgres`). Timestamps are `timestamp(3)` holding UTC text, as on the other engines.
 */
export function createPostgresEngine(
  url: string,
  opts: { schema?: string; tables?: Partial<SqlEngineTables> } = {},
): SqlEngine {
  const tables = resolveTables(opts.tables);
  const schema = opts.schema ?? 'mycpu_sql';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`sql engine: invalid schema ${JSON.stringify(schema)}`);
  // Sessions run in UTC (a startup option, before any statement), so timestamps without zone
  // read and write as the UTC text we pass.
  const pool = new pg.Pool({ connectionString: url, max: 4, options: '-c TimeZone=UTC' });
  pool.on('error', () => undefined);
  const a = `${schema}.${tables.archive}`;
  const w = `${schema}.${tables.workOrders}`;
  const placeholders = (rows: number, cols: number) =>
    Array.from(
      { length: rows },
      (_, r) => `(${Array.from({ length: cols }, (_, c) => `$${r * cols + c + 1}`).join(', ')})`,
    ).join(', ');

  return {
    dialect: 'postgres',
    tables,
    async ensure() {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema};
        CREATE TABLE IF NOT EXISTS ${a} (
          event_id text PRIMARY KEY, kind text NOT NULL, part_id text NOT NULL, station text NOT NULL, machine text NOT NULL,
          operator text NOT NULL, at timestamp(3) NOT NULL, next_station text, error_code text, cycle_time_ms bigint,
          archived_at timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'));
        CREATE INDEX IF NOT EXISTS ${tables.archive}_archived ON ${a} (archived_at, event_id);
        CREATE TABLE IF NOT EXISTS ${w} (
          wo_id text PRIMARY KEY, sku text NOT NULL, planned_qty int NOT NULL, due_date date NOT NULL, updated_at timestamp(3) NOT NULL);
        CREATE INDEX IF NOT EXISTS ${tables.workOrders}_updated ON ${w} (updated_at, wo_id);`);
    },
    async insertArchive(events) {
      let inserted = 0;
      for (const part of chunks(events, 500)) {
        const r = await pool.query(
          `INSERT INTO ${a} (${ARCHIVE_COLUMNS.join(', ')}) VALUES ${placeholders(part.length, ARCHIVE_COLUMNS.length)} ON CONFLICT (event_id) DO NOTHING`,
          part.flatMap(archiveValues),
        );
        inserted += r.rowCount ?? 0;
      }
      return inserted;
    },
    async upsertWorkOrders(rows) {
      if (rows.length === 0) return;
      // One statement (atomic); an older version never overwrites a newer one.
      await pool.query(
        `INSERT INTO ${w} (${WORK_ORDER_COLUMNS.join(', ')}) VALUES ${placeholders(rows.length, WORK_ORDER_COLUMNS.length)}
         ON CONFLICT (wo_id) DO UPDATE SET sku = excluded.sku, planned_qty = excluded.planned_qty, due_date = excluded.due_date,
           updated_at = excluded.updated_at WHERE excluded.updated_at >= ${w}.updated_at`,
        rows.flatMap(workOrderValues),
      );
    },
    async readWorkOrders() {
      const r = await pool.query(
        `SELECT wo_id, sku, planned_qty, to_char(due_date, 'YYYY-MM-DD') AS due_date, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.MS') AS updated_at FROM ${w} ORDER BY wo_id`,
      );
      return r.rows.map(workOrderFromRow);
    },
    async dropTables() {
      await pool.query(`DROP TABLE IF EXISTS ${a}, ${w}`);
    },
    close: () => pool.end(),
  };
}
