import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { setupTracing, shutdownTracing } from '../lib/tracing-setup.ts';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { migrate } from '../store/migrate.ts';
import { createRedisStore } from '../speed/redis-store.ts';
import { createServing } from '../serving/create-serving.ts';
import { allMetrics } from '../metrics/index.ts';
import { FIXTURE_CALENDAR } from '../serving/testing/fixture-serving.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/create-subgraph-server.ts';
import { createGateway, type Gateway } from './create-gateway.ts';
import { createAuthenticator } from './create-authenticator.ts';
import { AUTH, FIXTURE_SECRET } from './testing/start-fixture-stack.ts';
import type { SpeedStore } from '../speed/store.ts';

// One trace from the gateway's HTTP request down to the Postgres and Redis reads of a subgraph,
// on the real stores: spans recorded in memory by the same set-up `MILLRACE_OTEL_ENDPOINT` uses.
const exporter = new InMemorySpanExporter();
const pool = testPool();
const schema = testSchemaName('tracing');
let store: SpeedStore;
let subgraph: SubgraphServer;
let gateway: Gateway;

beforeAll(async () => {
  setupTracing({ serviceName: 'millrace-test', processors: [new SimpleSpanProcessor(exporter)] });
  await migrate(pool, schema, 2);
  store = createRedisStore({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `tracing-${randomBytes(4).toString('hex')}`,
    slice: 1000,
  });
  const serving = createServing({ pool, schema, store, metrics: allMetrics, partitions: 2, slice: 1000 });
  subgraph = await createSubgraphServer({ name: 'production', serving, calendar: FIXTURE_CALENDAR, log: () => {} });
  gateway = await createGateway({
    port: 0,
    subgraphs: [{ name: 'production', url: subgraph.url, sdl: subgraph.sdl }],
    health: async () => ({ ready: true, components: {} }),
    security: { authenticator: createAuthenticator({ secret: FIXTURE_SECRET }, () => {}) },
    tracing: true,
    logging: false,
    log: () => {},
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await subgraph?.close();
  await store?.close();
  await shutdownTracing();
  await dropSchema(pool, schema);
  await pool.end();
});

const QUERY = `query Traced { production(from: "2026-11-22T00:00:00Z", to: "2026-11-23T00:00:00Z", grain: DAY) {
  line { partsCompleted } freshness { batchShare } } }`;

describe('OpenTelemetry traces', () => {
  it('follow one request from the gateway through the subgraph to Postgres and Redis, with no token in any span', async () => {
    exporter.reset();
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify({ query: QUERY }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: unknown };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.ok(body.data);

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const names = spans.map((s) => s.name);
    const find = (pred: (s: ReadableSpan) => boolean, what: string) => {
      const s = spans.find(pred);
      assert.ok(s, `no ${what} span among ${JSON.stringify(names)}`);
      return s;
    };
    const subgraphServer = find((s) => s.name === 'subgraph production', 'subgraph server');
    const pgRead = find((s) => s.name === 'postgres.read-batch', 'Postgres read');
    const redisRead = find((s) => s.name === 'redis.read-slices', 'Redis read');
    assert.equal(pgRead.attributes['db.system'], 'postgresql');
    assert.equal(redisRead.attributes['db.system'], 'redis');

    // Every span of the request is in one trace.
    const traceId = subgraphServer.spanContext().traceId;
    for (const s of [pgRead, redisRead]) assert.equal(s.spanContext().traceId, traceId);

    // The store reads' ancestry climbs through the subgraph's server span to the gateway's root.
    const ancestry = (s: ReadableSpan) => {
      const chain: string[] = [];
      for (let p: ReadableSpan | undefined = s; p; p = byId.get(p.parentSpanContext?.spanId ?? '')) {
        chain.push(p.name);
      }
      return chain;
    };
    const chain = ancestry(pgRead);
    assert.ok(chain.includes('serving.series'), chain.join(' ← '));
    assert.ok(chain.includes('subgraph production'), chain.join(' ← '));
    const root = byId.get(spans.find((s) => s.name === chain.at(-1))!.spanContext().spanId)!;
    assert.equal(root.parentSpanContext, undefined, `the chain ends at a root: ${chain.join(' ← ')}`);
    assert.notEqual(root.name, 'subgraph production', `the gateway's spans lead the trace: ${chain.join(' ← ')}`);
    assert.ok(
      spans.some(
        (s) =>
          s.spanContext().traceId === traceId && /graphql|POST|fetch|subgraph/i.test(s.name) && s !== subgraphServer,
      ),
      `gateway spans share the trace: ${JSON.stringify(names)}`,
    );

    // No token or authorization header in any attribute or event.
    const token = AUTH.authorization.slice('Bearer '.length);
    const dump = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events, n: s.name })));
    assert.ok(!dump.includes(token), 'a span carries the bearer token');
    assert.ok(!/authorization/i.test(dump), 'a span carries the authorization header');
  });

  it('marks a refused request with its error code and still leaks no token', async () => {
    exporter.reset();
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ query: QUERY }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    const code = body.errors?.[0]?.extensions?.code;
    assert.ok(code, JSON.stringify(body));
    const spans = exporter.getFinishedSpans();
    assert.ok(spans.length > 0, 'the refused request was traced');
    assert.ok(!spans.some((s) => s.name === 'subgraph production'), 'a refused request reached the subgraph');
    const dump = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events })));
    assert.ok(!dump.includes('not-a-token'));
  });
});
