import { test, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MillraceError } from '../lib/errors.ts';
import { createFixtureServing, FIXTURE_CALENDAR } from '../serving/testing/fixture-serving.ts';
import { createSubgraphServer, type SubgraphServer } from './create-subgraph-server.ts';

const T0 = Date.UTC(2026, 10, 22, 7);
const serving = createFixtureServing([
  { metric: 'parts_exited', bucket: T0, dims: { station: 'CUT' }, cells: [4] },
  { metric: 'station_errors', bucket: T0, dims: { station: 'CUT', errorCode: 'E1' }, cells: [1] },
]);
const logs: string[] = [];
let production: SubgraphServer;
let quality: SubgraphServer;

before(async () => {
  const log = (l: string) => void logs.push(l);
  production = await createSubgraphServer({ name: 'production', serving, calendar: FIXTURE_CALENDAR, log });
  quality = await createSubgraphServer({ name: 'quality', serving, calendar: FIXTURE_CALENDAR, log });
});
after(async () => {
  await production?.close();
  await quality?.close();
});

async function post(server: SubgraphServer, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

test('serves its SDL for composition, over HTTP and as `sdl`', async () => {
  const files = await Promise.all(
    ['quality', 'common'].map((f) => readFile(new URL(`../schema/${f}.graphql`, import.meta.url), 'utf8')),
  );
  assert.equal(quality.sdl, `${files[0]}\n${files[1]}`);
  const { body } = await post(quality, '{ _service { sdl } }');
  assert.match(body.data._service.sdl, /errorRate\(from: DateTime!, to: DateTime!\): Float/);
  assert.match(production.url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
  assert.equal(production.wsUrl, production.url.replace('http', 'ws'));
});

test('quality resolves Station entities by reference', async () => {
  const { body } = await post(
    quality,
    `query($r: [_Any!]!) { _entities(representations: $r) { ... on Station { id errorCount(from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") errorRate(from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") } } }`,
    {
      r: [
        { __typename: 'Station', id: 'CUT' },
        { __typename: 'Station', id: 'GONE' },
      ],
    },
  );
  assert.equal(body.errors, undefined);
  assert.deepEqual(body.data._entities, [{ id: 'CUT', errorCount: 1, errorRate: 0.25 }, null]);
});

test('errors: MillraceError keeps its code, INTERNAL and foreign errors are masked, no stacks', async () => {
  const query =
    '{ productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") { total } }';
  const cases: Array<[Error, Record<string, unknown>, string]> = [
    [
      new MillraceError('UNAVAILABLE', 'speed slices were pruned while reading; try again', { retryable: true }),
      { code: 'UNAVAILABLE', retryable: true },
      'speed slices were pruned while reading; try again',
    ],
    [
      new MillraceError('INTERNAL', 'reading rollups: relation "secret_table" does not exist'),
      { code: 'INTERNAL_SERVER_ERROR' },
      'Internal server error',
    ],
    [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      { code: 'INTERNAL_SERVER_ERROR' },
      'Internal server error',
    ],
  ];
  try {
    for (const [err, extensions, message] of cases) {
      serving.failWith(err);
      const { text, body } = await post(production, query);
      assert.deepEqual(body.errors[0].extensions, extensions, text);
      assert.equal(body.errors[0].message, message);
      assert.doesNotMatch(text, /stacktrace|secret_table|\n\s+at /);
    }
    assert.ok(
      logs.some((l) => l.includes('secret_table')),
      'masked originals are logged',
    );
  } finally {
    serving.failWith(null);
  }
});

test('other paths are 404, oversized bodies 413; the Apollo landing page (a CDN page) is off', async () => {
  assert.equal((await fetch(production.url.replace('/graphql', '/nope'))).status, 404);
  const huge = JSON.stringify({ query: `{ stations { id } }`, variables: { pad: 'x'.repeat(5 << 20) } });
  const tooLarge = await fetch(production.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: huge,
  });
  assert.equal(tooLarge.status, 413);
  assert.equal((await tooLarge.json()).errors[0].extensions.code, 'BAD_REQUEST');
  const html = await (await fetch(production.url, { headers: { accept: 'text/html' } })).text();
  assert.doesNotMatch(html, /https?:\/\//);
});

test('subscriptions over graphql-ws on the same port; unsubscribing ends the serving feed', async () => {
  const client = createClient({ url: production.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    const it = client.iterate<any>({
      query: 'subscription { productionDeltas { cursor items { metric station value } } }',
    });
    const first = it.next();
    await serving.waitFor(() => serving.openFeeds === 1);
    serving.push([{ metric: 'station_errors', bucket: T0, dims: { station: 'WELD', errorCode: 'E3' }, cells: [2] }]);
    const { value } = await first;
    assert.deepEqual(value.data.productionDeltas.items, [{ metric: 'STATION_ERRORS', station: 'WELD', value: 2 }]);
    await it.return?.();
    await serving.waitFor(() => serving.openFeeds === 0);
  } finally {
    await client.dispose();
  }
});
