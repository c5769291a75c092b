import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { z } from 'zod';
import { badInputSuite, type BadInput } from '../bad-input.testkit.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { TEST_DATABASE_URL } from '../../lib/test-db.ts';
import { sqlPolling } from './sql-polling.ts';
import { MARIADB_URL } from './sql-polling.testkit.ts';

// sql-polling (machining archive mapping) against real PostgreSQL and MariaDB tables whose columns
// are loosely typed text, as an archive filled by another program often is, so that drifted, huge
// and wrongly encoded values can be stored at all. SQL Server and Oracle: see the note at the end.
const T0 = Date.UTC(2026, 0, 1);
type Row = Record<string, string | null>;

interface Db {
  dialect: 'postgres' | 'mariadb';
  url: string;
  create(table: string): Promise<void>;
  insert(table: string, row: Row): Promise<void>;
  drop(table: string): Promise<void>;
  end(): Promise<void>;
}

const COLS = [
  'event_id',
  'kind',
  'part_id',
  'station',
  'machine',
  'operator',
  'at',
  'next_station',
  'error_code',
  'cycle_time_ms',
];

function postgres(): Db {
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2, options: '-c TimeZone=UTC' });
  return {
    dialect: 'postgres',
    url: TEST_DATABASE_URL,
    async create(t) {
      await pool.query(`CREATE TABLE ${t} (event_id text PRIMARY KEY, ${COLS.slice(1)
        .map((c) => `${c} text`)
        .join(', ')},
        archived_at timestamp(3) NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'))`);
    },
    async insert(t, row) {
      const cols = Object.keys(row);
      await pool.query(
        `INSERT INTO ${t} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        cols.map((c) => row[c]),
      );
    },
    drop: async (t) => void (await pool.query(`DROP TABLE IF EXISTS ${t}`)),
    end: () => pool.end(),
  };
}

function mariadb(): Db {
  const pool = mysql.createPool({ uri: MARIADB_URL, connectionLimit: 2, dateStrings: true });
  pool.pool.on('connection', (conn) => conn.query("SET time_zone = '+00:00'"));
  return {
    dialect: 'mariadb',
    url: MARIADB_URL,
    async create(t) {
      await pool.query(
        `CREATE TABLE ${t} (event_id VARCHAR(100) PRIMARY KEY, ${COLS.slice(1)
          .map((c) => `${c} MEDIUMTEXT`)
          .join(', ')}, archived_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) CHARACTER SET utf8mb4`,
      );
    },
    async insert(t, row) {
      const cols = Object.keys(row);
      await pool.query(`INSERT INTO ${t} (${cols.join(', ')}) VALUES (?)`, [cols.map((c) => row[c])]);
    },
    drop: async (t) => void (await pool.query(`DROP TABLE IF EXISTS ${t}`)),
    end: () => pool.end(),
  };
}

for (const make of [postgres, mariadb]) {
  const probe = make();
  badInputSuite({
    name: `sql-polling (${probe.dialect}, machining archive)`,
    definition: sqlPolling as unknown as ConnectorDefinition<z.ZodType>,
    async setup() {
      void probe.end();
      const db = make();
      const table = `sqlbad_${randomBytes(4).toString('hex')}`;
      await db.create(table);
      let n = 0;
      const row = (over: Row = {}): Row => {
        n++;
        return {
          event_id: `sqlbad-${table}-${String(n).padStart(4, '0')}`,
          kind: 'enter',
          part_id: `P${n}`,
          station: 'DIE',
          machine: 'DIE-1',
          operator: 'E0001',
          at: new Date(T0 + n * 1000).toISOString().replace('T', ' ').slice(0, 23),
          next_station: null,
          error_code: null,
          cycle_time_ms: null,
          ...over,
        };
      };
      const put = async (over: Row) => {
        const r = row(over);
        await db.insert(table, r);
        return `${table}:${r.event_id}`;
      };
      const bad: BadInput[] = [
        { class: 'malformed', what: 'a time that is not one', write: () => put({ at: '31/12/2026 25:61' }) },
        { class: 'malformed', what: 'an exit with no next station', write: () => put({ kind: 'exit' }) },
        {
          class: 'truncated',
          what: 'a row with only its key and kind',
          write: () => put({ part_id: null, station: null, machine: null, operator: null, at: null }),
        },
        { class: 'oversized', what: 'a 600 KiB operator', write: () => put({ operator: 'E'.repeat(600 << 10) }) },
        {
          class: 'wrongly encoded',
          what: 'a name an application decoded from Latin-1 as UTF-8 (U+FFFD stored)',
          write: () => put({ operator: 'M\uFFFDller' }),
        },
        {
          class: 'schema-drifted',
          what: 'the cycle time in seconds, as text',
          write: () => put({ kind: 'exit', next_station: 'BND', cycle_time_ms: '1.2 s' }),
        },
        { class: 'schema-drifted', what: 'a kind added by a newer version', write: () => put({ kind: 'rework' }) },
      ];
      // Postgres text cannot hold a NUL at all; MariaDB stores it, and it would stop the loader's jsonb.
      if (db.dialect === 'mariadb')
        bad.push({
          class: 'wrongly encoded',
          what: 'binary data (a NUL) in a name',
          write: () => put({ operator: 'E\u00000001' }),
        });
      return {
        config: {
          dialect: db.dialect,
          url: db.url,
          table,
          columns: [...COLS, 'archived_at'],
          watermarkColumn: 'archived_at',
          keyColumn: 'event_id',
          lagWindowMs: 0,
          pollMs: 50,
          batch: 4,
          mapping: 'machining-archive',
        },
        source: {
          async append(k) {
            const ids: string[] = [];
            for (let i = 0; i < k; i++) {
              const r = row();
              await db.insert(table, r);
              ids.push(`machining:${r.event_id}`);
            }
            return ids;
          },
          bad,
          async cleanup() {
            await db.drop(table);
            await db.end();
          },
        },
      };
    },
  });
}

// SQL Server (change tracking, sql-server-ct) and Oracle need servers this machine cannot run.
if (!process.env.MSSQL_URL) console.log('sql bad input: SQL Server skipped (MSSQL_URL not set)');
if (!process.env.ORACLE_URL) console.log('sql bad input: Oracle skipped (ORACLE_URL not set)');
