import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, testPool, testSchemaName, TEST_DATABASE_URL } from '../lib/test-db.ts';
import { loadFloorMap } from '../simulator/floor.ts';
import { ensureLedger } from '../simulator/ledger.ts';
import { createRecordingTopic } from '../simulator/testing/recording-topic.ts';
import { loadConfig } from './config.ts';
import { factorySettings } from './sources.ts';
import { createWriters, LIVE_HISTORY_MS, liveStartTime } from '../simulator/live-writers.ts';

const pool = testPool();
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await pool.end();
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

describe('live writers', () => {
  it("start their history before the run, never before the source's seal nor after the start", () => {
    const t0 = Date.UTC(2026, 11, 2, 21, 35);
    assert.equal(liveStartTime('orders-postgres', t0, null), t0 - LIVE_HISTORY_MS['orders-postgres']);
    assert.ok(
      LIVE_HISTORY_MS['orders-postgres'] >= 12 * 3_600_000,
      'orders: enough history for status changes at ≈ 50 changes a day',
    );
    assert.equal(
      liveStartTime('orders-postgres', t0, t0 - 5 * 60_000),
      t0 - 5 * 60_000,
      'a restart resumes at the seal',
    );
    assert.equal(
      liveStartTime('energy-csv', t0, t0 - 48 * 3_600_000),
      t0 - LIVE_HISTORY_MS['energy-csv'],
      'an old seal does not stretch the history',
    );
    assert.equal(
      liveStartTime('energy-csv', t0, t0 + 60_000),
      t0 + 60_000,
      'an earlier run ran ahead (speed > 1): after its seal',
    );
    assert.equal(liveStartTime('machining', t0, null), t0, 'no history for the others');
  });

  // The first live tick advances every writer to now: after it, every source has its rows, and each
  // one that injects malformed input has done so (what makes them show up within seconds live).
  for (const [seed, t0] of [
    [42, Date.UTC(2026, 11, 2, 21, 35, 14)], // shift B
    [1, Date.UTC(2026, 11, 3, 3, 10)], // shift C after midnight
    [2, Date.UTC(2026, 11, 3, 6, 20)], // early in shift A
    [42, Date.UTC(2026, 11, 3, 2, 56)], // the ERP's syncs of this hour and the next create no work order
  ] as const) {
    it(`seed ${seed}, start ${new Date(t0).toISOString()}: the first step writes every source's history, with malformed input`, async () => {
      const ledgerSchema = testSchemaName('ledger_live');
      const ordersSchema = testSchemaName('orders_live');
      const dir = await mkdtemp(join(tmpdir(), 'live-writers-'));
      await ensureLedger(pool, ledgerSchema);
      cleanups.push(
        () => dropSchema(pool, ledgerSchema),
        () => dropSchema(pool, ordersSchema),
        () => rm(dir, { recursive: true, force: true }),
      );
      const millraceSchema = testSchemaName('live');
      cleanups.push(() => dropSchema(pool, `${millraceSchema}_src`)); // the SQL engine's tables (Postgres plays it here)
      const c = loadConfig({
        LEDGER_SCHEMA: ledgerSchema,
        ORDERS_SCHEMA: ordersSchema,
        FACTORY_DIR: dir,
        MILLRACE_SCHEMA: millraceSchema,
        TOOL_API_PORT: String(await freePort()),
        MILLRACE_SIM_SEED: String(seed),
      });
      const heat = createRecordingTopic('mycpu.heat', 1);
      const { writers } = createWriters(factorySettings(c, TEST_DATABASE_URL), {
        pool,
        openTopic: () => heat,
        floor: loadFloorMap(),
        startTime: t0,
        log: () => undefined,
      });
      try {
        for (const w of writers) await w.advanceTo(t0 + 1);
      } finally {
        for (const w of writers) await w.close();
      }
      const malformed = async (source: string) =>
        (
          await pool.query(
            `SELECT count(*)::int AS n FROM ${ledgerSchema}.faults WHERE kind = 'malformed' AND detail LIKE $1`,
            [`${source}: %`],
          )
        ).rows[0].n;
      for (const source of ['heat-sensors', 'energy-csv', 'tool-api', 'clockin-excel'])
        assert.ok((await malformed(source)) > 0, `${source}: malformed input in the first step`);
      assert.ok(heat.records.length > 100, `heat: ${heat.records.length} messages`);
      // Orders: the last day's orders and their status changes, all committed before the start.
      const orders = (await pool.query(`SELECT status, requested_at FROM ${ordersSchema}.orders`)).rows;
      assert.ok(orders.length > 0 && orders.every((o) => o.requested_at.getTime() < t0), `${orders.length} orders`);
      assert.ok(
        orders.some((o) => o.status !== 'requested'),
        'some have moved on (confirmed, completed or received)',
      );
      const created = (
        await pool.query(
          `SELECT coalesce(sum(value), 0)::int AS n FROM ${ledgerSchema}.facts WHERE fact = 'orders_created'`,
        )
      ).rows[0].n;
      assert.ok(created >= orders.length, `ledger: ${created} orders created`);
      // Clock-in: the sheet of the shift under way (its day: the day before, between midnight and 06:00).
      const day = new Date(t0 - 6 * 3_600_000).toISOString().slice(0, 10);
      assert.ok(existsSync(join(dir, 'clockin', `clockin-${day}.xlsx`)), `clockin-${day}.xlsx`);
      assert.ok(existsSync(join(dir, 'energy', `energy-${new Date(t0).toISOString().slice(0, 10)}.csv`)));
      // Work orders: the last day's, in the engine and in the ledger, all stamped before the start.
      const wos = (
        await pool.query(`SELECT wo_id, updated_at FROM ${millraceSchema}_src.${millraceSchema}_work_orders ORDER BY 1`)
      ).rows;
      assert.ok(
        wos.length > 10 && wos.every((w) => new Date(w.updated_at).getTime() <= t0),
        `${wos.length} work orders`,
      );
      const inLedger = (
        await pool.query(`SELECT key FROM ${ledgerSchema}.entities WHERE entity = 'work_order' ORDER BY 1`)
      ).rows;
      assert.deepEqual(
        inLedger.map((r) => r.key),
        wos.map((w) => w.wo_id),
      );
    });
  }
});
