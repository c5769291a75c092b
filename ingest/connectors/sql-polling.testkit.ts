import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { TEST_DATABASE_URL } from '../../lib/test-db.ts';

/**
 * Test harness of the `sql-polling` tests: the real source databases (PostgreSQL, MariaDB), one
 * per dialect, making tables with unique names and writing rows the way an application would —
 * including from a transaction left open on purpose. Not a test file; imported by them.
 */
export const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';

export type TableKind = 'archive' | 'work-order';
export type Row = Record<string, string | number | null>;

export interface OpenTx {
  insert(table: string, rows: Row[]): Promise<void>;
  commit(): Promise<void>;
}

export interface SourceDb {
  dialect: 'postgres' | 'mariadb';
  url: string;
  /** A fresh table of the kind; the archive's `archived_at` defaults to the database clock. */
  createTable(kind: TableKind): Promise<string>;
  insert(table: string, rows: Row[]): Promise<void>;
  /** Amend a work order: new planned quantity, new `updated_at`. */
  amend(table: string, woId: string, plannedQty: number, updatedAt: number): Promise<void>;
  /** A transaction that stays open until `commit()`. */
  begin(): Promise<OpenTx>;
  /** The database clock, epoch ms. */
  nowMs(): Promise<number>;
  /** Drop every table made, close connections. */
  cleanup(): Promise<void>;
}

/** UTC text with ms, which both engines store unchanged in a UTC session. */
export const utc = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 23);

const ARCHIVE = `event_id VARCHAR(200) PRIMARY KEY, kind VARCHAR(10), part_id VARCHAR(100), station VARCHAR(40), machine VARCHAR(100),
  operator VARCHAR(100), at TIMESTAMPTYPE, next_station VARCHAR(40), error_code VARCHAR(40), cycle_time_ms BIGINT`;
const WORK_ORDERS = `wo_id VARCHAR(100) PRIMARY KEY, sku VARCHAR(100), planned_qty INT, due_date DATE, updated_at TIMESTAMPTYPE NOT NULL`;

export function postgresSource(): SourceDb {
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4, options: '-c TimeZone=UTC' });
  const tables: string[] = [];
  const insertWith = async (c: pg.Pool | pg.PoolClient, table: string, rows: Row[]) => {
    const cols = Object.keys(rows[0]);
    const vals = rows.map((_, r) => `(${cols.map((_, i) => `$${r * cols.length + i + 1}`).join(', ')})`).join(', ');
    await c.query(
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${vals}`,
      rows.flatMap((r) => cols.map((k) => r[k])),
    );
  };
  return {
    dialect: 'postgres',
    url: TEST_DATABASE_URL,
    async createTable(kind) {
      const t = `sqlpoll_${kind.replace('-', '_')}_${randomBytes(4).toString('hex')}`;
      tables.push(t);
      // The archive uses `timestamp` (no zone), work orders `timestamptz`: the connector reads both.
      if (kind === 'archive') {
        await pool.query(`CREATE TABLE ${t} (${ARCHIVE.replace('TIMESTAMPTYPE', 'timestamp(3)')},
          archived_at timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'))`);
        await pool.query(`CREATE INDEX ON ${t} (archived_at, event_id)`);
      } else {
        await pool.query(`CREATE TABLE ${t} (${WORK_ORDERS.replace('TIMESTAMPTYPE', 'timestamptz(3)')})`);
        await pool.query(`CREATE INDEX ON ${t} (updated_at, wo_id)`);
      }
      return t;
    },
    insert: (table, rows) => insertWith(pool, table, rows),
    async amend(table, woId, qty, t) {
      await pool.query(`UPDATE ${table} SET planned_qty = $1, updated_at = $2 WHERE wo_id = $3`, [qty, utc(t), woId]);
    },
    async begin() {
      const c = await pool.connect();
      await c.query('BEGIN');
      return {
        insert: (table, rows) => insertWith(c, table, rows),
        async commit() {
          await c.query('COMMIT');
          c.release();
        },
      };
    },
    nowMs: async () =>
      Number((await pool.query(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS t`)).rows[0].t),
    async cleanup() {
      for (const t of tables) await pool.query(`DROP TABLE IF EXISTS ${t}`);
      await pool.end();
    },
  };
}

export function mariadbSource(): SourceDb {
  const pool = mysql.createPool({ uri: MARIADB_URL, connectionLimit: 4, dateStrings: true });
  pool.pool.on('connection', (conn) => conn.query("SET time_zone = '+00:00'"));
  const tables: string[] = [];
  const insertWith = async (c: mysql.Pool | mysql.PoolConnection, table: string, rows: Row[]) => {
    const cols = Object.keys(rows[0]);
    await c.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ?`, [rows.map((r) => cols.map((k) => r[k]))]);
  };
  return {
    dialect: 'mariadb',
    url: MARIADB_URL,
    async createTable(kind) {
      const t = `sqlpoll_${kind.replace('-', '_')}_${randomBytes(4).toString('hex')}`;
      tables.push(t);
      if (kind === 'archive') {
        await pool.query(`CREATE TABLE ${t} (${ARCHIVE.replace('TIMESTAMPTYPE', 'DATETIME(3)')},
          archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), KEY (archived_at, event_id))`);
      } else {
        await pool.query(
          `CREATE TABLE ${t} (${WORK_ORDERS.replace('TIMESTAMPTYPE', 'DATETIME(3)')}, KEY (updated_at, wo_id))`,
        );
      }
      return t;
    },
    insert: (table, rows) => insertWith(pool, table, rows),
    async amend(table, woId, qty, t) {
      await pool.query(`UPDATE ${table} SET planned_qty = ?, updated_at = ? WHERE wo_id = ?`, [qty, utc(t), woId]);
    },
    async begin() {
      const c = await pool.getConnection();
      await c.beginTransaction();
      return {
        insert: (table, rows) => insertWith(c, table, rows),
        async commit() {
          await c.commit();
          c.release();
        },
      };
    },
    nowMs: async () => {
      const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS t`);
      return Number(rows[0].t);
    },
    async cleanup() {
      for (const t of tables) await pool.query(`DROP TABLE IF EXISTS ${t}`);
      await pool.end();
    },
  };
}

/** Every dialect the polling suites run on for real here. */
export const sourceDbs = [
  { dialect: 'postgres', make: postgresSource },
  { dialect: 'mariadb', make: mariadbSource },
] as const;
