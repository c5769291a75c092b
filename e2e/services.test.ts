import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { freePort, gql, runCli, startMillrace, tempDir, waitFor, type Running } from './harness.ts';
import { ALL_LEDGER_SOURCES, checkBadRequest, checkSubscriptionResume, checkVerify } from './checks.ts';
import { ensureOrdersTable } from '../simulator/sources/orders-postgres.ts';

// Production mode on the real services (`npm run services:up`): Kafka log and source topic,
// Postgres master dataset and rollups, Redis speed layer. Unreachable services fail the suite.
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';

describe('production mode on real Kafka + Postgres + Redis', () => {
  const id = randomBytes(4).toString('hex');
  let env: Record<string, string>;
  let app: Running;
  let factory: Running;

  before(async () => {
    env = {
      DATABASE_URL,
      REDIS_URL,
      KAFKA_BROKERS,
      MARIADB_URL,
      PORT: String(await freePort()),
      TOOL_API_PORT: String(await freePort()),
      FACTORY_DIR: await tempDir('millrace-factory'),
      HEAT_TOPIC: `mycpu.heat.${id}`,
      ORDERS_SCHEMA: `mycpu_${id}`,
      // A deployment of its own: schema, topics, consumer groups and Redis keys.
      MILLRACE_SCHEMA: `e2e_${id}`,
      MILLRACE_PREFIX: `e2e-${id}`,
      LEDGER_SCHEMA: `ledger_${id}`,
      MACHINING_TOPIC: `mycpu.machining.${id}`,
      MILLRACE_SIM_SPEED: '30',
      MILLRACE_SIM_RATE: '150',
      MILLRACE_SLICE: '200',
    };
    // The factory runs apart from millrace (as a real plant would): killing millrace leaves it
    // running. millrace starts first: its CDC slot must exist before the first order is written.
    // The plant's orders table exists before that (a plant's tables are the plant's: millrace with
    // the simulator off creates none, and a slot made after the factory's first orders misses them).
    const provision = new pg.Pool({ connectionString: DATABASE_URL });
    await ensureOrdersTable(provision, `mycpu_${id}`).finally(() => provision.end());
    app = await startMillrace({ ...env, MILLRACE_SIMULATOR: 'off' });
    factory = await startMillrace({ ...env, PORT: '0' }, ['--target', 'simulator']);
  });
  after(async () => {
    await app?.stop();
    await factory?.stop();
    // A replication slot left behind would hold WAL forever: drop it with everything else.
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    await pool.query(
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`,
      [`e2e_${id}_orders`],
    );
    await pool.query(`DROP PUBLICATION IF EXISTS e2e_${id}_orders_pub`);
    await pool.query(
      `DROP SCHEMA IF EXISTS e2e_${id} CASCADE; DROP SCHEMA IF EXISTS ledger_${id} CASCADE; DROP SCHEMA IF EXISTS mycpu_${id} CASCADE`,
    );
    await pool.end();
    const maria = await mysql.createConnection(MARIADB_URL);
    await maria.query(`DROP TABLE IF EXISTS e2e_${id}_machining_archive, e2e_${id}_work_orders`);
    await maria.end();
  });

  it('runs on the real services', async () => {
    const st = await waitFor('millrace status', async () => {
      const r = await runCli(['status', '--json'], env);
      if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.stderr.slice(0, 500)}`);
      return JSON.parse(r.stdout);
    });
    assert.deepEqual(st.mode, { postgres: 'external', log: 'kafka', speed: 'redis' });
    await waitFor(
      'events flowing',
      async () => JSON.parse((await runCli(['status', '--json'], env)).stdout).connectors[0].events > 200,
    );
    // The real stores behind every source kind answer: Kafka (machining, heat), PostgreSQL CDC
    // (orders), MariaDB polling (archive, work orders), CSV, Excel, REST, reference files.
    const st2 = await waitFor(
      'events from every source',
      async () => {
        const s = JSON.parse((await runCli(['status', '--json'], env)).stdout);
        const n = (name: string) => s.connectors.find((k: { name: string }) => k.name === name)?.events ?? 0;
        return s.connectors.length >= 10 && s.connectors.every((k: { name: string }) => n(k.name) > 0) ? s : null;
      },
      120_000,
    );
    assert.ok(
      st2.connectors.every(
        (k: { lastError: string | null; name: string }) =>
          k.name === 'orders' || k.lastError === null || /HTTP 500|timeout|circuit/.test(k.lastError),
      ),
      JSON.stringify(st2.connectors),
    );
  });

  it('streams deltas from Redis Streams and resumes from a cursor without gaps', () =>
    checkSubscriptionResume(app.url));

  it("verify finds zero mismatches, with every source's facts or entities compared", async () => {
    const v = await checkVerify(env, 240_000, ALL_LEDGER_SOURCES);
    assert.ok(v.checked > 0);
  });

  it('stays exact after kill -9 mid-stream and a restart', async () => {
    await app.kill9();
    app = await startMillrace({ ...env, MILLRACE_SIMULATOR: 'off' });
    assert.ok((await checkVerify(env)).checked > 0);
  });

  it('stays exact after FLUSHALL on Redis (speed layer rebuilt from raw)', async () => {
    const redis = new Redis(REDIS_URL);
    await redis.flushall();
    await redis.quit();
    assert.ok((await checkVerify(env)).checked > 0);
    const r = await gql(
      app.url,
      `{ productionSeries(metric: PARTS_EXITED, grain: DAY, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { total freshness { speedOffsets batchOffsets speedLagEvents } } }`,
    );
    assert.ok(r.data.productionSeries.total > 0);
  });

  it('answers a bad request with a coded GraphQL error', () => checkBadRequest(app.url));

  it('shuts down cleanly on SIGTERM', async () => {
    assert.equal(await app.stop(), 0, app.output().slice(-2000));
  });
});
