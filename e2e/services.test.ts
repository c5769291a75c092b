import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort, gql, runCli, startMillrace, waitFor, type Running } from './harness.ts';
import { checkBadRequest, checkSubscriptionResume, checkVerify } from './checks.ts';

// Production mode on the real services (`npm run services:up`): Kafka log and source topic,
// Postgres master dataset and rollups, Redis speed layer. Unreachable services fail the suite.
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

describe('production mode on real Kafka + Postgres + Redis', () => {
  const id = randomBytes(4).toString('hex');
  let env: Record<string, string>;
  let app: Running;
  let factory: Running;

  before(async () => {
    env = {
      DATABASE_URL, REDIS_URL, KAFKA_BROKERS,
      PORT: String(await freePort()),
      // A deployment of its own: schema, topics, consumer groups and Redis keys.
      MILLRACE_SCHEMA: `e2e_${id}`, MILLRACE_PREFIX: `e2e-${id}`, LEDGER_SCHEMA: `ledger_${id}`, MACHINING_TOPIC: `mycpu.machining.${id}`,
      MILLRACE_SIM_SPEED: '30', MILLRACE_SIM_RATE: '150', MILLRACE_SLICE: '200',
    };
    // The factory runs apart from millrace (as a real plant would): killing millrace leaves it running.
    factory = await startMillrace({ ...env, PORT: '0' }, ['--target', 'simulator']);
    app = await startMillrace({ ...env, MILLRACE_SIMULATOR: 'off' });
  });
  after(async () => {
    await app?.stop();
    await factory?.stop();
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    await pool.query(`DROP SCHEMA IF EXISTS e2e_${id} CASCADE; DROP SCHEMA IF EXISTS ledger_${id} CASCADE`);
    await pool.end();
  });

  it('runs on the real services', async () => {
    const st = JSON.parse((await runCli(['status', '--json'], env)).stdout);
    assert.deepEqual(st.mode, { postgres: 'external', log: 'kafka', speed: 'redis' });
    await waitFor('events flowing', async () => JSON.parse((await runCli(['status', '--json'], env)).stdout).connectors[0].events > 200);
  });

  it('streams deltas from Redis Streams and resumes from a cursor without gaps', () => checkSubscriptionResume(app.url));

  it('verify finds zero mismatches', async () => {
    assert.ok((await checkVerify(env)).checked > 0);
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
    const r = await gql(app.url, `{ productionSeries(metric: PARTS_EXITED, grain: DAY, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { total freshness { speedOffsets batchOffsets speedLagEvents } } }`);
    assert.ok(r.data.productionSeries.total > 0);
  });

  it('answers a bad request with a coded GraphQL error', () => checkBadRequest(app.url));

  it('shuts down cleanly on SIGTERM', async () => {
    assert.equal(await app.stop(), 0, app.output().slice(-2000));
  });
});
