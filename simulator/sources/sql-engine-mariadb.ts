import mysql from 'mysql2/promise';
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
 * MariaDB (or MySQL) as "another SQL engine": the one that runs on the project's machines, so the
 * polling connector is exercised for real. Timestamps are DATETIME(3) holding UTC: every session
 * runs with `time_zone = '+00:00'`, and values travel as text (`dateStrings`) so nothing shifts.
 */
export function createMariaDbEngine(url: string, opts: { tables?: Partial<SqlEngineTables> } = {}): SqlEngine {
  const tables = resolveTables(opts.tables);
  // -FOUND_ROWS: affectedRows counts changed rows, so an ignored duplicate reports 0.
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: 4,
    dateStrings: true,
    timezone: 'Z',
    flags: ['-FOUND_ROWS'],
  });
  // Runs before any other statement on a fresh connection (statements on one connection are serial).
  pool.pool.on('connection', (conn) => conn.query("SET time_zone = '+00:00'"));
  const a = tables.archive;
  const w = tables.workOrders;

  return {
    dialect: 'mariadb',
    tables,
    async ensure() {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${a} (
        event_id VARCHAR(200) NOT NULL PRIMARY KEY,
        kind VARCHAR(10) NOT NULL,
        part_id VARCHAR(100) NOT NULL,
        station VARCHAR(40) NOT NULL,
        machine VARCHAR(100) NOT NULL,
        operator VARCHAR(100) NOT NULL,
        at DATETIME(3) NOT NULL,
        next_station VARCHAR(40) NULL,
        error_code VARCHAR(40) NULL,
        cycle_time_ms BIGINT NULL,
        archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY ${a}_archived (archived_at, event_id)
      )`);
      await pool.query(`CREATE TABLE IF NOT EXISTS ${w} (
        wo_id VARCHAR(100) NOT NULL PRIMARY KEY,
        sku VARCHAR(100) NOT NULL,
        planned_qty INT NOT NULL,
        due_date DATE NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        KEY ${w}_updated (updated_at, wo_id)
      )`);
    },
    async insertArchive(events) {
      let inserted = 0;
      for (const part of chunks(events, 1000)) {
        // A duplicate event id is a no-op (affectedRows 0), not an error.
        const [res] = await pool.query<mysql.ResultSetHeader>(
          `INSERT INTO ${a} (${ARCHIVE_COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE event_id = event_id`,
          [part.map(archiveValues)],
        );
        inserted += res.affectedRows;
      }
      return inserted;
    },
    async upsertWorkOrders(rows) {
      if (rows.length === 0) return;
      // One statement: atomic on its own, so the hour's sync commits all or nothing. An older
      // version (a restarted writer replaying its history) never overwrites a newer one;
      // `updated_at` is assigned last because later assignments see earlier ones.
      const newer = 'VALUES(updated_at) >= updated_at';
      await pool.query(
        `INSERT INTO ${w} (${WORK_ORDER_COLUMNS.join(', ')}) VALUES ?
         ON DUPLICATE KEY UPDATE sku = IF(${newer}, VALUES(sku), sku), planned_qty = IF(${newer}, VALUES(planned_qty), planned_qty),
           due_date = IF(${newer}, VALUES(due_date), due_date), updated_at = GREATEST(updated_at, VALUES(updated_at))`,
        [rows.map(workOrderValues)],
      );
    },
    async readWorkOrders() {
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        `SELECT ${WORK_ORDER_COLUMNS.join(', ')} FROM ${w} ORDER BY wo_id`,
      );
      return rows.map(workOrderFromRow);
    },
    async dropTables() {
      await pool.query(`DROP TABLE IF EXISTS ${a}, ${w}`);
    },
    close: () => pool.end(),
  };
}
