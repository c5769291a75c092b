import { test, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AUTH, startFixtureStack, within, type FixtureStack } from './testing/start-fixture-stack.ts';
import type { FixtureRow } from '../serving/testing/fixture-serving.ts';

// The snapshot is "today" in the factory's zone (UTC here): rows at today's midnight are in it.
const DAY = 86_400_000;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const MINUTE_BUCKET = TODAY + 60_000;
const ROWS: FixtureRow[] = [
  { metric: 'parts_entered', bucket: TODAY, dims: { station: 'CUT' }, cells: [7] },
  { metric: 'parts_exited', bucket: TODAY, dims: { station: 'CUT' }, cells: [5] },
  { metric: 'parts_exited', bucket: TODAY, dims: { station: 'WELD' }, cells: [4] },
  { metric: 'station_errors', bucket: TODAY, dims: { station: 'CUT', errorCode: 'E1' }, cells: [1] },
  // Yesterday: not in today's snapshot.
  { metric: 'parts_exited', bucket: TODAY - 60_000, dims: { station: 'CUT' }, cells: [100] },
];

let stack: FixtureStack;
let client: Client;
before(async () => {
  stack = await startFixtureStack(ROWS);
  client = createClient({
    url: stack.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { ...AUTH },
  });
  // A delta kept before anyone subscribes, so the snapshot has a cursor to resume from.
  stack.serving.push([]);
});
after(async () => {
  await client?.dispose();
  await stack?.close();
});

const exit = (station: string, n: number) => ({
  metric: 'parts_exited',
  bucket: MINUTE_BUCKET,
  dims: { station },
  cells: [n],
});
const error = (station: string, n: number) => ({
  metric: 'station_errors',
  bucket: MINUTE_BUCKET,
  dims: { station, errorCode: 'E7' },
  cells: [n],
});
const enter = (station: string, n: number) => ({
  metric: 'parts_entered',
  bucket: MINUTE_BUCKET,
  dims: { station },
  cells: [n],
});

/**
 * Snapshot, one delta, unsubscribe, then resume from the delta's cursor: the first message after
 * resuming is the next delta (no snapshot, no gap, nothing twice).
 */
async function snapshotThenResume(
  field: 'productionUpdates' | 'qualityUpdates',
  items: string,
  expect: { snapshot: unknown[]; delta: unknown[]; resumed: unknown[] },
) {
  const query = `subscription($after: String) { ${field}(stations: ["CUT"], after: $after) { kind cursor items { ${items} } } }`;
  const first = client.iterate<any>({ query });
  const next = async (it: AsyncIterableIterator<any>, what: string) => {
    const { value } = await within(it.next(), what);
    assert.equal(value.errors, undefined, JSON.stringify(value.errors));
    return value.data[field];
  };
  const snap = await next(first, 'the snapshot');
  const base = Number(snap.cursor);
  assert.deepEqual({ ...snap, cursor: null }, { kind: 'SNAPSHOT', cursor: null, items: expect.snapshot });
  assert.ok(base >= 1, 'the snapshot carries the newest cursor');
  await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
  stack.serving.push([exit('CUT', 2), error('CUT', 1), enter('CUT', 3), exit('WELD', 9)]);
  const delta = await next(first, 'a delta');
  assert.deepEqual(delta, { kind: 'DELTA', cursor: String(base + 1), items: expect.delta });
  await first.return?.();
  await stack.serving.waitFor(() => stack.serving.openFeeds === 0);

  // Missed while away: one delta for CUT; the resumed feed starts with it.
  stack.serving.push([exit('CUT', 4)]);
  const resumed = client.iterate<any>({ query, variables: { after: delta.cursor } });
  const again = await next(resumed, 'the resumed delta');
  assert.deepEqual(again, { kind: 'DELTA', cursor: String(base + 2), items: expect.resumed });
  await resumed.return?.();
  await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
}

test('productionUpdates: snapshot of today per station, deltas, resume by cursor', async () => {
  const today = new Date(TODAY).toISOString();
  const minute = new Date(MINUTE_BUCKET).toISOString();
  await snapshotThenResume('productionUpdates', 'station bucket partsStarted partsCompleted errors', {
    snapshot: [{ station: 'CUT', bucket: today, partsStarted: 7, partsCompleted: 5, errors: 1 }],
    delta: [{ station: 'CUT', bucket: minute, partsStarted: 3, partsCompleted: 2, errors: 1 }],
    resumed: [{ station: 'CUT', bucket: minute, partsStarted: 0, partsCompleted: 4, errors: 0 }],
  });
});

test('qualityUpdates: snapshot of today per station, deltas, resume by cursor', async () => {
  const today = new Date(TODAY).toISOString();
  const minute = new Date(MINUTE_BUCKET).toISOString();
  await snapshotThenResume('qualityUpdates', 'station bucket inspected failed', {
    snapshot: [{ station: 'CUT', bucket: today, inspected: 5, failed: 1 }],
    delta: [{ station: 'CUT', bucket: minute, inspected: 2, failed: 1 }],
    resumed: [{ station: 'CUT', bucket: minute, inspected: 4, failed: 0 }],
  });
});

test('qualityUpdates and productionUpdates refuse an unknown station and an unknown cursor', async () => {
  for (const field of ['qualityUpdates', 'productionUpdates']) {
    const unknown = client.iterate<any>({ query: `subscription { ${field}(stations: ["NOPE"]) { kind } }` });
    const a = (await within(unknown.next(), 'the error')).value;
    assert.equal(a.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(a));
    assert.match(a.errors[0].message, /unknown station "NOPE"; known: CUT, WELD, PAINT/);
    await unknown.return?.();
    const expired = client.iterate<any>({ query: `subscription { ${field}(after: "999") { kind } }` });
    const b = (await within(expired.next(), 'the error')).value;
    assert.equal(b.errors?.[0]?.extensions?.code, 'CURSOR_EXPIRED', JSON.stringify(b));
    await expired.return?.();
  }
  await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
});
