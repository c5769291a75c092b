import pg from 'pg';
import mysql from 'mysql2/promise';
import { createOracleSourceClient } from './sql-source-oracle.ts';
import { lowerKeys, type Cursor, type PollSpec, type SqlPollingDialect, type SqlSourceClient } from './sql-source.ts';

// The interface lives in sql-source.ts (the Oracle client implements it too); re-exported for callers.
export type { Cursor, PolledRow, PollSpec, SqlPollingDialect, SqlSourceClient } from './sql-source.ts';

/**
 * The keyset condition "after the cursor", `(wm, key) > (:wm, :key)`, is spelled per dialect, each in
 * the form its planner turns into one index range on (wm, key):
 * - PostgreSQL: the row-value comparison itself. Its btree scan takes `ROW(wm, key) > ROW($x, $y)` as
 *   an index condition and starts right after the cursor; the spelled-out OR form is not one (the
 *   planner scans from the start of the index, or a BitmapOr + sort, and filters: every page costs
 *   more the further the cursor is).
 * - MariaDB/MySQL: spelled out with OR (below): their range optimizer does not use an index for a
 *   row-value `>` (a full scan and filesort per page), but does for the OR of two ranges.
 * - Oracle (`sql-source-oracle.ts`): spelled out with OR; it has no row-value `<`/`>` at all.
 * - SQL Server (`sql-server-ct.ts`): no row-value comparisons either; Change Tracking pages on the
 *   single key column, so no tiebreak is needed there.
 */
const afterPostgres = (s: PollSpec, wm: string, key: string) =>
  `(${s.watermarkColumn}, ${s.keyColumn}) > (${wm}, ${key})`;

/** PostgreSQL's page query (exported so a test can EXPLAIN it): one index range from the cursor on. */
export function postgresPollQuery(s: PollSpec, cursor: Cursor | null): { text: string; values: unknown[] } {
  const values: unknown[] = [s.lagWindowMs, s.batch];
  let where = `${s.watermarkColumn} <= now() - $1::int * interval '1 millisecond'`;
  if (cursor) {
    values.push(cursor.wm, cursor.key);
    where += ` AND ${afterPostgres(s, '$3::timestamptz', '$4')}`;
  }
  return {
    text: `SELECT ${s.columns.join(', ')}, ${s.watermarkColumn}::text AS "__wm", ${s.keyColumn}::text AS "__key" FROM ${s.table}
         WHERE ${where} ORDER BY ${s.watermarkColumn}, ${s.keyColumn} LIMIT $2`,
    values,
  };
}

/** Postgres: session in UTC; `timestamp` and `date` come back as text (node-pg would read them as local time). */
function createPostgresSourceClient(url: string): SqlSourceClient {
  const asText = new Set([1082, 1114]);
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    options: '-c TimeZone=UTC',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        asText.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client whose session the server ended would otherwise be an unhandled 'error' (process exit).
  pool.on('error', () => undefined);
  return {
    async poll(s, cursor) {
      const r = await pool.query(postgresPollQuery(s, cursor));
      return r.rows.map((x) => ({ cursor: { wm: x.__wm, key: x.__key }, row: lowerKeys(x, s.columns) }));
    },
    async pending(s, cursor) {
      // Rows stamped in the future (a clock ahead of the database's) are not readable yet: not lag.
      const r = cursor
        ? await pool.query(
            `SELECT count(*)::bigint AS n FROM ${s.table} WHERE ${s.watermarkColumn} <= now() AND ${afterPostgres(s, '$1::timestamptz', '$2')}`,
            [cursor.wm, cursor.key],
          )
        : await pool.query(`SELECT count(*)::bigint AS n FROM ${s.table} WHERE ${s.watermarkColumn} <= now()`);
      return Number(r.rows[0].n);
    },
    close: () => pool.end(),
  };
}

/** MariaDB/MySQL: session in UTC, DATETIME values as text; `%f` keeps microseconds. */
function createMariaDbSourceClient(url: string): SqlSourceClient {
  const pool = mysql.createPool({ uri: url, connectionLimit: 2, dateStrings: true, timezone: 'Z' });
  pool.pool.on('connection', (conn) => conn.query("SET time_zone = '+00:00'"));
  return {
    async poll(s, cursor) {
      const params: unknown[] = [s.lagWindowMs * 1000];
      let where = `${s.watermarkColumn} <= NOW(6) - INTERVAL ? MICROSECOND`;
      if (cursor) {
        params.push(cursor.wm, cursor.wm, cursor.key);
        // Spelled out, not `(wm, key) > (?, ?)`: MariaDB uses no index range for a row-value `>` (see afterPostgres).
        where += ` AND (${s.watermarkColumn} > ? OR (${s.watermarkColumn} = ? AND ${s.keyColumn} > ?))`;
      }
      params.push(s.batch);
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        `SELECT ${s.columns.join(', ')}, DATE_FORMAT(${s.watermarkColumn}, '%Y-%m-%d %H:%i:%s.%f') AS __wm, CAST(${s.keyColumn} AS CHAR) AS __key
         FROM ${s.table} WHERE ${where} ORDER BY ${s.watermarkColumn}, ${s.keyColumn} LIMIT ?`,
        params,
      );
      return rows.map((x) => ({ cursor: { wm: String(x.__wm), key: String(x.__key) }, row: lowerKeys(x, s.columns) }));
    },
    async pending(s, cursor) {
      const [rows] = cursor
        ? await pool.query<mysql.RowDataPacket[]>(
            `SELECT count(*) AS n FROM ${s.table} WHERE ${s.watermarkColumn} <= NOW(6) AND (${s.watermarkColumn} > ? OR (${s.watermarkColumn} = ? AND ${s.keyColumn} > ?))`,
            [cursor.wm, cursor.wm, cursor.key],
          )
        : await pool.query<mysql.RowDataPacket[]>(
            `SELECT count(*) AS n FROM ${s.table} WHERE ${s.watermarkColumn} <= NOW(6)`,
          );
      return Number(rows[0].n);
    },
    close: () => pool.end(),
  };
}

export function createSqlSourceClient(dialect: SqlPollingDialect, url: string): SqlSourceClient {
  if (dialect === 'postgres') return createPostgresSourceClient(url);
  if (dialect === 'mariadb') return createMariaDbSourceClient(url);
  return createOracleSourceClient(url);
}
