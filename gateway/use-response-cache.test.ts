import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { migrate } from '../store/migrate.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import { createLoader } from '../loader/loader.ts';
import { createSpeedApplier } from '../speed/applier.ts';
import { createRefresher } from '../batch/refresher.ts';
import { createRedisStore, deletePrefixKeys } from '../speed/redis-store.ts';
import { createServing } from '../serving/create-serving.ts';
import { allMetrics } from '../metrics/index.ts';
import { FIXTURE_CALENDAR } from '../serving/testing/fixture-serving.ts';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import type { Envelope } from '../ingest/envelope.ts';
import type { Serving } from '../serving/types.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/create-subgraph-server.ts';
import { createGateway, type Gateway } from './create-gateway.ts';
import { ALL_SCOPES, createAuthenticator } from './create-authenticator.ts';
import { FIXTURE_SECRET, fixtureToken } from './testing/start-fixture-stack.ts';
import { coalesceReads } from './use-response-cache.ts';

// The response cache on the real layers: events loaded into Postgres by the loader, applied to
// Redis by the speed applier, folded by the batch refresher, read by the real production
// subgraph through the real gateway. The subgraph's reads are counted, never timed.
const MIN = 60_000;
const SLICE = 4;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `rcache-${randomUUID()}`;
const NOW = Date.now();
const FROM = new Date(NOW - 24 * 60 * MIN).toISOString();
const TO = new Date(NOW + 60 * MIN).toISOString();
let n = 0;
const ev = (type: string, key: string, t: number, payload: Record<string, unknown>): Envelope => ({
  id: `rcache:${n++}`,
  source: 'test',
  type,
  key,
  eventTime: t,
  payload,
});
const entity = (name: string, key: string, data: unknown) =>
  ev('entity.upsert', `${name}:${key}`, NOW - 60 * MIN, { entity: name, key, version: '1', data });
const exit = (t = NOW - 5 * MIN) =>
  ev('machining.exit', `part-${n}`, t, { station: 'CUT', errorCode: null, cycleTimeMs: 1000 });

const SERIES = `query Exits($from: DateTime!, $to: DateTime!) {
  productionSeries(metric: PARTS_EXITED, grain: HOUR, from: $from, to: $to) {
    total freshness { batchOffsets speedOffsets speedLagEvents }
  }
}`;
const WORKERS = `{ entities(entity: "worker") { key personalData } }`;
const NO_PII = ALL_SCOPES.filter((s) => s !== 'pii:read');

describe('coalesceReads', () => {
  it('shares a read only among callers that asked before it started', async () => {
    const reads: Array<(v: string) => void> = [];
    const read = coalesceReads(() => new Promise<string>((resolve) => reads.push(resolve)));
    const a = read();
    const b = read();
    const c = read();
    assert.equal(reads.length, 1, 'b and c wait for the next read, they do not start their own');
    reads[0]('v1');
    assert.equal(await a, 'v1');
    await new Promise((r) => setImmediate(r));
    assert.equal(reads.length, 2, 'the queued callers got a read of their own');
    reads[1]('v2');
    assert.deepEqual(await Promise.all([b, c]), ['v2', 'v2']);
    const d = read();
    assert.equal(reads.length, 3);
    reads[2]('v3');
    assert.equal(await d, 'v3');
  });
});

describe('response cache keyed by the data version (Postgres + Redis)', () => {
  const pool = testPool();
  const schema = testSchemaName('rcache');
  const store = createRedisStore({ url: redisUrl, prefix, slice: SLICE });
  const loader = createLoader({
    pool,
    schema,
    log: createPostgresTopic({ pool, name: 'unused', partitions: 1, schema }),
  });
  const applier = createSpeedApplier({ pool, schema, store, metrics: allMetrics, partitions: 1, slice: SLICE });
  const refresher = createRefresher({ pool, schema, metrics: allMetrics, partitions: 1, slice: SLICE });
  const real = createServing({ pool, schema, store, metrics: allMetrics, partitions: 1, slice: SLICE });
  // What the subgraph reads, counted: a hit must not reach it.
  const calls = { series: 0, entities: 0, deadLetters: 0 };
  /** Set: the next series read, once it has read, resolves `read` and waits for `release` before answering. */
  let holdNext: { read: () => void; release: Promise<void> } | null = null;
  const serving: Serving = {
    ...real,
    series: async (q) => {
      calls.series++;
      const hold = holdNext;
      holdNext = null;
      const r = await real.series(q);
      if (hold) {
        hold.read();
        await hold.release;
      }
      return r;
    },
    entities: (q) => (calls.entities++, real.entities(q)),
    deadLetters: (q) => (calls.deadLetters++, real.deadLetters(q)),
  };
  const registry = new Registry();
  let offset = 0;
  let subgraph: SubgraphServer;
  let cached: Gateway;
  let uncached: Gateway;
  /** A gateway over the subgraph, quiet, on a free port; tests add security and the cache. */
  const gatewayBase = () => ({
    port: 0,
    subgraphs: [{ name: 'production', url: subgraph.url, sdl: subgraph.sdl }],
    health: async () => ({ ready: true, components: {} }),
    logging: false as const,
    log: () => {},
  });

  /** Events into `raw` through the loader (entities, offsets); `apply` also puts them in the speed layer. */
  async function load(events: Envelope[], apply = true) {
    await loader.load({
      partition: 0,
      records: events.map((e) => ({
        partition: 0,
        offset: offset++,
        key: e.key,
        value: JSON.stringify(e),
        timestamp: 0,
      })),
    });
    if (apply) await applier.cycle();
  }

  async function gql(gw: Gateway, query: string, variables: Record<string, unknown> = {}, scopes = ALL_SCOPES) {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fixtureToken(scopes)}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    return { text, body: JSON.parse(text) };
  }

  const counter = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
  const counts = async () => ({
    hits: await counter('millrace_response_cache_hits_total'),
    misses: await counter('millrace_response_cache_misses_total'),
  });

  before(async () => {
    await migrate(pool, schema, 1);
    await load([
      entity('station', 'CUT', { name: 'CUT', zone: 'A', department: 'D', x: 0, y: 0, machines: [], flowIndex: 0 }),
      entity('worker', 'E-7', { name: 'Ada Example', department: 'D' }),
      exit(),
    ]);
    subgraph = await createSubgraphServer({ name: 'production', serving, calendar: FIXTURE_CALENDAR, log: () => {} });
    const base = gatewayBase();
    const authenticator = createAuthenticator({ secret: FIXTURE_SECRET }, () => {});
    cached = await createGateway({
      ...base,
      security: { authenticator, metricsRegistry: registry },
      responseCache: { dataVersion: () => real.dataVersion() },
    });
    uncached = await createGateway({ ...base, security: { authenticator } });
  }, 60_000);

  after(async () => {
    await cached?.close();
    await uncached?.close();
    await subgraph?.close();
    await store.close();
    await deletePrefixKeys(redisUrl, prefix);
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('answers a repeated query from the cache: a hit, and the subgraph is not asked again', async () => {
    const before = await counts();
    const first = await gql(cached, SERIES, { from: FROM, to: TO });
    assert.equal(first.body.errors, undefined, first.text);
    assert.equal(first.body.data.productionSeries.total, 1);
    const reads = calls.series;
    const second = await gql(cached, SERIES, { from: FROM, to: TO });
    assert.equal(second.text, first.text);
    assert.equal(calls.series, reads, 'the hit reached the subgraph');
    assert.deepEqual(await counts(), { hits: before.hits + 1, misses: before.misses + 1 });
  });

  it('answers the new figure after a speed delta is applied, never the cached one', async () => {
    assert.equal((await gql(cached, SERIES, { from: FROM, to: TO })).body.data.productionSeries.total, 1);
    await load([exit(), exit()]);
    const before = await counts();
    const reads = calls.series;
    const after = await gql(cached, SERIES, { from: FROM, to: TO });
    assert.equal(after.body.data.productionSeries.total, 3, after.text);
    assert.equal(calls.series, reads + 1);
    assert.deepEqual(await counts(), { hits: before.hits, misses: before.misses + 1 });
    // And the new answer is cached in turn.
    assert.equal((await gql(cached, SERIES, { from: FROM, to: TO })).text, after.text);
    assert.equal((await counts()).hits, before.hits + 1);
  });

  it('answers the new figure after the batch watermark moves', async () => {
    // Loaded but not applied to the speed layer: only the batch refresh brings these three in
    // (8 events in all, two whole slices).
    await load([exit(), exit(), exit()], false);
    const loaded = await gql(cached, SERIES, { from: FROM, to: TO });
    assert.equal(loaded.body.data.productionSeries.total, 3, loaded.text);
    assert.equal((await gql(cached, SERIES, { from: FROM, to: TO })).text, loaded.text, 'cached before the refresh');
    const folded = await refresher.refreshOnce();
    assert.ok(folded > 0, 'the refresher folded nothing');
    const before = await counts();
    const after = await gql(cached, SERIES, { from: FROM, to: TO });
    assert.equal(after.body.data.productionSeries.total, 6, after.text);
    assert.deepEqual(after.body.data.productionSeries.freshness.batchOffsets, [2 * SLICE]);
    assert.deepEqual(await counts(), { hits: before.hits, misses: before.misses + 1 });
  });

  it('never gives a caller without pii:read an answer made for a caller with it', async () => {
    const withPii = await gql(cached, WORKERS);
    assert.equal(withPii.body.errors, undefined, withPii.text);
    assert.match(withPii.text, /Ada Example/);
    assert.equal((await gql(cached, WORKERS)).text, withPii.text);
    const before = await counts();
    for (let i = 0; i < 2; i++) {
      const without = await gql(cached, WORKERS, {}, NO_PII);
      assert.doesNotMatch(without.text, /Ada Example/);
      assert.equal(without.body.errors?.[0]?.extensions?.code, 'FORBIDDEN', without.text);
    }
    // Refused answers carry an error: looked up under their own scopes, never kept.
    assert.deepEqual(await counts(), { hits: before.hits, misses: before.misses + 2 });
  });

  it('keeps different variables apart', async () => {
    const day = { from: new Date(NOW - 60 * MIN).toISOString(), to: TO };
    const early = {
      from: new Date(NOW - 48 * 60 * MIN).toISOString(),
      to: new Date(NOW - 24 * 60 * MIN).toISOString(),
    };
    const a = await gql(cached, SERIES, day);
    const b = await gql(cached, SERIES, early);
    assert.equal(a.body.data.productionSeries.total, 6, a.text);
    assert.equal(b.body.data.productionSeries.total, 0, b.text);
    const before = await counts();
    // Keys do not depend on the order of the variables' keys.
    assert.equal((await gql(cached, SERIES, { to: day.to, from: day.from })).text, a.text);
    assert.equal((await gql(cached, SERIES, early)).text, b.text);
    assert.deepEqual(await counts(), { hits: before.hits + 2, misses: before.misses });
  });

  it('never caches clock-dependent or uncovered fields (dead letters)', async () => {
    const before = await counts();
    const reads = calls.deadLetters;
    for (let i = 0; i < 2; i++) {
      const r = await gql(cached, '{ deadLetters { edges { cursor } } }');
      assert.equal(r.body.errors, undefined, r.text);
    }
    assert.equal(calls.deadLetters, reads + 2);
    assert.deepEqual(await counts(), before);
  });

  it('a version that cannot be read means no cache, not a failed query', async () => {
    const gw = await createGateway({
      ...gatewayBase(),
      security: { authenticator: createAuthenticator({ secret: FIXTURE_SECRET }, () => {}) },
      responseCache: { dataVersion: () => Promise.reject(new Error('store down')) },
    });
    try {
      const reads = calls.series;
      for (let i = 0; i < 2; i++) {
        const r = await gql(gw, SERIES, { from: FROM, to: TO });
        assert.equal(r.body.data?.productionSeries.total, 6, r.text);
      }
      assert.equal(calls.series, reads + 2);
    } finally {
      await gw.close();
    }
  });

  it('with the cache off, every query reaches the subgraph', async () => {
    const reads = calls.series;
    const a = await gql(uncached, SERIES, { from: FROM, to: TO });
    const b = await gql(uncached, SERIES, { from: FROM, to: TO });
    assert.equal(a.body.data.productionSeries.total, 6, a.text);
    assert.equal(b.text, a.text);
    assert.equal(calls.series, reads + 2);
  });

  it('a query that arrives after the data moved gets a read of its own, and the cache keeps that one', async () => {
    // Variables no query used yet: no answer is kept for them.
    const vars = { from: FROM, to: new Date(NOW + 61 * MIN).toISOString() };
    const total = (await gql(uncached, SERIES, vars)).body.data.productionSeries.total;
    let read!: () => void;
    let release!: () => void;
    const readDone = new Promise<void>((r) => (read = r));
    holdNext = { read, release: new Promise<void>((r) => (release = r)) };
    const base = calls.series;
    const a = gql(cached, SERIES, vars);
    await readDone; // A's subgraph read has its snapshot and is held before answering
    await load([exit()]);
    const b = gql(cached, SERIES, vars);
    // B must reach the subgraph itself: sharing A's request (in-flight deduplication) would give it,
    // and keep under the new version, an answer read before the data moved.
    const limit = Date.now() + 10_000;
    while (calls.series < base + 2 && Date.now() < limit) await new Promise((r) => setTimeout(r, 5));
    release();
    assert.equal(calls.series, base + 2, "B never reached the subgraph: it joined A's request");
    assert.equal((await a).body.data.productionSeries.total, total);
    const after = await b;
    assert.equal(after.body.data.productionSeries.total, total + 1, after.text);
    const again = await gql(cached, SERIES, vars);
    assert.equal(again.body.data.productionSeries.total, total + 1, 'the cache kept an answer from before the move');
  });

  it('refuses in-flight deduplication together with the response cache (it could keep an older answer)', async () => {
    await assert.rejects(
      createGateway({
        ...gatewayBase(),
        security: { authenticator: createAuthenticator({ secret: FIXTURE_SECRET }, () => {}) },
        responseCache: { dataVersion: () => real.dataVersion() },
        deduplicateInflight: true,
      }),
      (e: Error & { code?: string }) => e.code === 'CONFIG' && /GATEWAY_DEDUP_INFLIGHT/.test(e.message),
    );
  });
});
