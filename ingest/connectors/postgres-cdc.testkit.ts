import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { TEST_DATABASE_URL, dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { prepareCdc } from './postgres-cdc-setup.ts';

/** A change as an independent observer (a test_decoding slot of its own) saw it. */
export interface ObservedChange {
  lsn: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  orderId: string;
  /** The source transaction's id. */ xid: string;
}

export interface CdcFixture {
  pool: pg.Pool;
  schema: string;
  /** `schema.orders`. */
  table: string;
  config: { connectionString: string; slot: string; publication: string; tables: string[] };
  /** Every change of the table so far, in commit order, with its LSN (read from the observer slot). */
  observe(): Promise<ObservedChange[]>;
  /** Drop what the fixture made: both slots (slots left behind hold WAL), the publication, the schema. */
  cleanup(): Promise<void>;
}

/** Drop a slot once no walsender holds it (a stopped connector's backend takes a moment to exit). */
export async function dropSlot(pool: pg.Pool, slot: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await pool.query(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    if (r.rowCount === 0) return;
    if (!r.rows[0].active) {
      await pool.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch((err: { code?: string }) => {
        if (err.code !== '42704' && err.code !== '55006') throw err;
      });
    } else if (Date.now() > deadline) throw new Error(`slot ${slot} still active after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * An isolated orders table (same DDL as the simulator's writer), its publication and slot made up
 * front (as an operator provisions them, so nothing written before the first start is missed), and
 * an observer slot that tells the tests which LSN every change got — the ids the connector must emit.
 */
export async function createCdcFixture(): Promise<CdcFixture> {
  const pool = testPool();
  const schema = testSchemaName('cdc');
  const hex = randomBytes(4).toString('hex');
  const observer = `obs_${hex}`;
  const config = {
    connectionString: TEST_DATABASE_URL,
    slot: `cdc_${hex}`,
    publication: `pub_${hex}`,
    tables: [`${schema}.orders`],
  };
  await pool.query(`CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.orders (order_id text PRIMARY KEY, kind text NOT NULL, subject text NOT NULL, severity int, status text NOT NULL,
      requested_at timestamptz NOT NULL, confirmed_at timestamptz, completed_at timestamptz, updated_at timestamptz NOT NULL, note text);
    ALTER TABLE ${schema}.orders REPLICA IDENTITY FULL;`);
  const cleanup = async () => {
    await dropSlot(pool, config.slot);
    await dropSlot(pool, observer);
    await pool.query(`DROP PUBLICATION IF EXISTS ${config.publication}`);
    await dropSchema(pool, schema);
    await pool.end();
  };
  try {
    await pool.query(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [observer]);
    await prepareCdc(pool, { ...config, checkpointedLsn: null });
  } catch (err) {
    // e.g. max_replication_slots reached: leave nothing behind (a stray slot holds WAL).
    await cleanup().catch(() => undefined);
    throw err;
  }
  const seen: ObservedChange[] = [];
  const prefix = `table ${schema}.orders: `;
  return {
    pool,
    schema,
    table: `${schema}.orders`,
    config,
    cleanup,
    async observe() {
      const r = await pool.query(
        `SELECT lsn::text AS lsn, xid::text AS xid, data FROM pg_logical_slot_get_changes($1, NULL, NULL) WHERE starts_with(data, $2)`,
        [observer, prefix],
      );
      for (const row of r.rows as Array<{ lsn: string; xid: string; data: string }>) {
        const m = /^table \S+: (INSERT|UPDATE|DELETE): .*?order_id\[text\]:'([^']*)'/.exec(row.data);
        if (m) seen.push({ lsn: row.lsn, op: m[1] as ObservedChange['op'], orderId: m[2], xid: row.xid });
      }
      return [...seen];
    },
  };
}

/** Insert `n` requested repair orders in one transaction; returns their ids. */
export async function insertOrders(f: CdcFixture, ids: string[], at = Date.UTC(2026, 0, 5, 8)): Promise<void> {
  const values = ids.map(
    (_, i) =>
      `($${i + 1}, 'repair', 'DIE-1', ${(i % 4) + 1}, 'requested', to_timestamp(${at / 1000 + i * 60}), NULL, NULL, to_timestamp(${at / 1000 + i * 60}), NULL)`,
  );
  await f.pool.query(`INSERT INTO ${f.table} VALUES ${values.join(', ')}`, ids);
}

/**
 * `txs` source transactions in one statement (a DO block committing after each), `rowsOf(i)` inserts
 * each: a backlog the connector finds waiting. Returns the order ids, in commit order.
 */
export async function insertTransactions(
  f: CdcFixture,
  tag: string,
  txs: number,
  rowsOf: (i: number) => number = () => 1,
): Promise<string[]> {
  const sizes = Array.from({ length: txs }, (_, i) => rowsOf(i));
  const ids: string[] = [];
  for (const [i, n] of sizes.entries()) for (let k = 0; k < n; k++) ids.push(`RO-${tag}-${i}-${k}`);
  await f.pool.query(`DO $$ DECLARE sizes int[] := ARRAY[${sizes.join(',')}]; BEGIN
    FOR i IN 1..array_length(sizes, 1) LOOP
      INSERT INTO ${f.table} SELECT 'RO-${tag}-' || (i - 1) || '-' || k, 'repair', 'DIE-1', 1, 'requested', t, NULL, NULL, t, NULL
        FROM (SELECT k, timestamptz '2026-01-05 08:00Z' + k * interval '1 minute' AS t FROM generate_series(0, sizes[i] - 1) k) s ORDER BY k;
      COMMIT;
    END LOOP; END $$`);
  return ids;
}

/** The id the connector must give the change an observer saw. */
export const expectedId = (f: CdcFixture, c: ObservedChange) => `pg:${f.table}:${c.lsn}:${c.orderId}`;
