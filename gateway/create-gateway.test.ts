import { test, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { AUTH, FIXTURE_SECRET, startFixtureStack, type FixtureStack } from './testing/start-fixture-stack.ts';
import { createAuthenticator } from './create-authenticator.ts';
import type { FixtureRow } from '../serving/testing/fixture-serving.ts';
import { MillraceError } from '../lib/errors.ts';
import { createGateway } from './create-gateway.ts';

const T0 = Date.UTC(2026, 10, 22, 7);
const MIN = 60_000;
const ROWS: FixtureRow[] = [
  { metric: 'parts_exited', bucket: T0, dims: { station: 'CUT' }, cells: [5] },
  { metric: 'parts_exited', bucket: T0 + MIN, dims: { station: 'CUT' }, cells: [3] },
  { metric: 'parts_exited', bucket: T0, dims: { station: 'WELD' }, cells: [4] },
  { metric: 'station_errors', bucket: T0, dims: { station: 'CUT', errorCode: 'E1' }, cells: [1] },
  { metric: 'station_errors', bucket: T0 + MIN, dims: { station: 'CUT', errorCode: 'E2' }, cells: [1] },
  { metric: 'station_errors', bucket: T0, dims: { station: 'WELD', errorCode: 'E1' }, cells: [2] },
  // cells: [count, sum, n ≤ 15 s, ≤ 30 s, ≤ 45 s, ≤ 60 s, ≤ 90 s, ≤ 120 s, ≤ 180 s, ≤ 300 s, > 300 s]
  { metric: 'cycle_time', bucket: T0, dims: { station: 'CUT' }, cells: [10, 400_000, 2, 3, 3, 1, 0, 0, 0, 0, 1] },
  { metric: 'cycle_time', bucket: T0 + MIN, dims: { station: 'WELD' }, cells: [4, 320_000, 0, 0, 1, 1, 1, 1, 0, 0, 0] },
];
const FROM = '2026-11-22T07:00:00.000Z';
const TO = '2026-11-22T08:00:00.000Z';

let stack: FixtureStack;
before(async () => {
  stack = await startFixtureStack(ROWS);
});
after(async () => {
  await stack?.close();
});

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

function assertNoStack(text: string) {
  assert.doesNotMatch(text, /stacktrace|originalError|\n\s+at |\.ts:\d+/);
}

test('productionSeries returns the points, total and freshness; histogram percentiles from the cells', async () => {
  const { body } = await gql(
    `query($from: DateTime!, $to: DateTime!) {
    exits: productionSeries(metric: PARTS_EXITED, grain: MINUTE, from: $from, to: $to) {
      metric grain from to total points { bucket station { id name } value histogram { count } }
      freshness { asOf batchOffsets batchWatermark batchRefreshedAt speedOffsets speedLagEvents speedAppliedAt batchShare speedShare }
    }
    cycle: productionSeries(metric: CYCLE_TIME, grain: HOUR, from: $from, to: $to) {
      total points { bucket station { id } value histogram { bounds counts count sum mean p50 p95 p99 } }
    }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined);
  const { exits, cycle } = body.data;
  assert.deepEqual(
    { metric: exits.metric, grain: exits.grain, from: exits.from, to: exits.to, total: exits.total },
    { metric: 'PARTS_EXITED', grain: 'MINUTE', from: FROM, to: TO, total: 12 },
  );
  assert.deepEqual(exits.points, [
    { bucket: FROM, station: { id: 'CUT', name: 'Cutting' }, value: 5, histogram: null },
    { bucket: FROM, station: { id: 'WELD', name: 'Welding' }, value: 4, histogram: null },
    { bucket: '2026-11-22T07:01:00.000Z', station: { id: 'CUT', name: 'Cutting' }, value: 3, histogram: null },
  ]);
  assert.deepEqual(exits.freshness, {
    asOf: '2026-11-22T08:00:00.000Z',
    batchOffsets: [10, 20],
    batchWatermark: '2026-11-22T07:59:00.000Z',
    batchRefreshedAt: '2026-11-22T07:59:30.000Z',
    speedOffsets: [12, 25],
    speedLagEvents: 3,
    speedAppliedAt: '2026-11-22T07:59:59.000Z',
    batchShare: 0.75,
    speedShare: 0.25,
  });
  const bounds = [15_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000];
  assert.equal(cycle.total, 14);
  const [cut, weld] = cycle.points;
  assert.deepEqual(cut, {
    bucket: FROM,
    station: { id: 'CUT' },
    value: 10,
    // Rank 5 of 10 falls in (15 s, 30 s]; rank 10 is in the open bucket above 300 s: no bound.
    histogram: {
      bounds,
      counts: [2, 3, 3, 1, 0, 0, 0, 0, 1],
      count: 10,
      sum: 400_000,
      mean: 40_000,
      p50: 30_000,
      p95: null,
      p99: null,
    },
  });
  assert.deepEqual(weld.histogram, {
    // Ranks 2 and 4 of 4: (45 s, 60 s] and (90 s, 120 s].
    bounds,
    counts: [0, 0, 1, 1, 1, 1, 0, 0, 0],
    count: 4,
    sum: 320_000,
    mean: 80_000,
    p50: 60_000,
    p95: 120_000,
    p99: 120_000,
  });
});

test('a federated query crosses both subgraphs', async () => {
  const { body } = await gql(
    `query($from: DateTime!, $to: DateTime!) {
    stations { id name errorCount(from: $from, to: $to) errorRate(from: $from, to: $to) }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined);
  assert.deepEqual(body.data.stations, [
    { id: 'CUT', name: 'Cutting', errorCount: 2, errorRate: 0.25 },
    { id: 'WELD', name: 'Welding', errorCount: 2, errorRate: 0.5 },
    { id: 'PAINT', name: 'Painting', errorCount: 0, errorRate: null },
  ]);
});

test('bad arguments are BAD_USER_INPUT with a clear message and no stack', async () => {
  const cases: Array<[string, RegExp]> = [
    [
      `{ productionSeries(metric: PARTS_EXITED, grain: MINUTE, from: "yesterday", to: "${TO}") { total } }`,
      /`from` must be an ISO-8601/,
    ],
    [
      `{ productionSeries(metric: PARTS_EXITED, grain: MINUTE, from: "${TO}", to: "${FROM}") { total } }`,
      /must be before/,
    ],
    [
      `{ productionSeries(metric: PARTS_EXITED, grain: MINUTE, from: "2026-11-18T08:00:00Z", to: "${TO}") { total } }`,
      /minute buckets; the limit is 5000/,
    ],
    [
      `{ productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "${FROM}", to: "${TO}", station: "NOPE") { total } }`,
      /unknown station "NOPE"/,
    ],
    [`{ stations { errorCount(from: "${TO}", to: "${FROM}") } }`, /must be before/],
  ];
  for (const [query, message] of cases) {
    const { text, body } = await gql(query);
    assert.equal(body.errors?.length, 1, text);
    assert.equal(body.errors[0].extensions.code, 'BAD_USER_INPUT', text);
    assert.match(body.errors[0].message, message);
    assertNoStack(text);
  }
});

test('an exception inside serving comes back masked as INTERNAL_SERVER_ERROR, logged server-side', async () => {
  stack.serving.failWith(new Error('pg: password authentication failed for user "hunter2"'));
  try {
    const { text, body } = await gql(
      `{ productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "${FROM}", to: "${TO}") { total } }`,
    );
    assert.equal(body.errors[0].extensions.code, 'INTERNAL_SERVER_ERROR');
    assert.equal(body.errors[0].message, 'Internal server error');
    assert.doesNotMatch(text, /hunter2|password/);
    assertNoStack(text);
    assert.ok(
      stack.logs.some((l) => l.includes('hunter2')),
      'the original is logged for operators',
    );
  } finally {
    stack.serving.failWith(null);
  }
});

test('limits: an oversized document is refused before any subgraph is asked', async () => {
  const calls = stack.serving.seriesCalls.length;
  const { body } = await gql(`{ ${Array.from({ length: 700 }, (_, i) => `a${i}: stations { id }`).join(' ')} }`);
  assert.equal(body.errors[0].extensions.code, 'TOKEN_LIMIT');
  assert.match(body.errors[0].message, /2000 tokens/);
  assert.equal(stack.serving.seriesCalls.length, calls);
});

test('/healthz is 503 until ready, then 200; /status is JSON', async () => {
  const base = stack.gateway.url.replace(/\/graphql$/, '');
  stack.setReady(false);
  const down = await fetch(`${base}/healthz`);
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), {
    ready: false,
    status: 'unavailable',
    components: { serving: 'starting' },
    degraded: [],
  });
  stack.setReady(true);
  const up = await fetch(`${base}/healthz`);
  assert.equal(up.status, 200);
  assert.deepEqual(await up.json(), { ready: true, status: 'ok', components: { serving: 'up' }, degraded: [] });
  assert.equal((await fetch(`${base}/status`)).status, 401, '/status needs a credential');
  const status = await fetch(`${base}/status`, { headers: AUTH });
  assert.deepEqual(await status.json(), { subgraphs: 2 });
});

test('GraphiQL is served with local assets only (no CDN references)', async () => {
  const res = await fetch(stack.gateway.url, { headers: { accept: 'text/html' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.match(html, /YogaGraphiQL\.renderYogaGraphiQL/);
  assert.doesNotMatch(html, /<script[^>]+src=["']?(https?:)?\/\//i);
  assert.doesNotMatch(html, /<link[^>]+href=["']?(https?:)?\/\//i);
  assert.doesNotMatch(html, /@import\s+(url\()?["']?(https?:)?\/\//i);
});

test('deduplicateInflight: false executes every identical request (for benchmarks)', async () => {
  const plain = await startFixtureStack(ROWS, { deduplicateInflight: false });
  try {
    const query = JSON.stringify({
      query: `{ productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "${FROM}", to: "${TO}") { total } }`,
    });
    const post = () =>
      fetch(plain.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH },
        body: query,
      }).then((r) => r.json());
    const results = await Promise.all([post(), post(), post()]);
    assert.deepEqual(
      results.map((r: any) => r.data.productionSeries.total),
      [12, 12, 12],
    );
    assert.equal(plain.serving.seriesCalls.length, 3);
  } finally {
    await plain.close();
  }
});

test('a supergraph that does not compose stops the start, listing every error', async () => {
  const clash =
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\ntype Station @key(fields: "id") { id: ID! name: Int! }\ntype Query { other: Station }';
  await assert.rejects(
    createGateway({
      port: 0,
      health: async () => ({ ready: true, components: {} }),
      security: { authenticator: createAuthenticator({ secret: FIXTURE_SECRET }) },
      subgraphs: [
        { name: 'production', url: stack.production.url, sdl: stack.production.sdl },
        { name: 'clash', url: 'http://127.0.0.1:9/graphql', sdl: clash },
      ],
    }),
    (err: MillraceError) =>
      err.code === 'COMPOSITION_FAILED' &&
      /composition failed \(production, clash\):\n  - .*Station\.name/s.test(err.message),
  );
});
