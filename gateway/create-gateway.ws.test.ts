import { test, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AUTH, startFixtureStack, within, type FixtureStack } from './testing/start-fixture-stack.ts';

const T0 = Date.UTC(2026, 10, 22, 7);
const FROM = '2026-11-22T07:00:00.000Z';

let stack: FixtureStack;
before(async () => {
  stack = await startFixtureStack();
});
after(async () => {
  await stack?.close();
});

function assertNoStack(text: string) {
  assert.doesNotMatch(text, /stacktrace|originalError|\n\s+at |\.ts:\d+/);
}

test('graphql-ws subscription through the gateway: deltas, filtering, unsubscribe, resume after a cursor', async () => {
  const client: Client = createClient({
    url: stack.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { ...AUTH },
  });
  const query = `subscription($after: String) {
    productionDeltas(after: $after, metrics: [PARTS_EXITED]) { cursor partition fromOffset toOffset appliedAt items { metric bucket station errorCode value } }
  }`;
  const item = (station: string, n: number, metric = 'parts_exited') => ({
    metric,
    bucket: T0,
    dims: { station },
    cells: [n],
  });
  try {
    const first = client.iterate<any>({ query });
    const received: any[] = [];
    const next = async () => (await within(first.next(), 'a delta')).value.data.productionDeltas;
    const pending = next();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
    stack.serving.push([item('CUT', 1)]);
    received.push(await pending);
    stack.serving.push([item('CUT', 4, 'cycle_time')]);
    stack.serving.push([
      item('WELD', 2),
      { metric: 'station_errors', bucket: T0, dims: { station: 'WELD', errorCode: 'E9' }, cells: [1] },
    ]);
    received.push(await next(), await next());
    assert.deepEqual(
      received.map((d) => d.cursor),
      ['1', '2', '3'],
    );
    assert.deepEqual(received[0].items, [
      { metric: 'PARTS_EXITED', bucket: FROM, station: 'CUT', errorCode: null, value: 1 },
    ]);
    assert.deepEqual(received[1].items, [], 'only PARTS_EXITED items, but the cursor still advances');
    assert.deepEqual(
      received[2].items.map((i: any) => [i.station, i.value]),
      [['WELD', 2]],
    );

    // Unsubscribing ends the serving feed (through gateway and subgraph), with no delta needed to notice.
    await first.return?.();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);

    stack.serving.push([item('PAINT', 7)]);
    stack.serving.push([item('CUT', 8)]);
    const resumed = client.iterate<any>({ query, variables: { after: '3' } });
    const again = async () => (await within(resumed.next(), 'a resumed delta')).value.data.productionDeltas;
    const four = await again();
    const five = await again();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
    stack.serving.push([item('WELD', 9)]);
    const six = await again();
    assert.deepEqual(
      [four, five, six].map((d) => [d.cursor, d.items[0].station, d.items[0].value]),
      [
        ['4', 'PAINT', 7],
        ['5', 'CUT', 8],
        ['6', 'WELD', 9],
      ],
    );
    await resumed.return?.();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
  } finally {
    await client.dispose();
  }
});

test('a subscription with an unknown cursor gets CURSOR_EXPIRED, not a dropped socket', async () => {
  const client = createClient({
    url: stack.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { ...AUTH },
  });
  try {
    const it = client.iterate<any>({ query: 'subscription { productionDeltas(after: "999") { cursor } }' });
    const { value } = await within(it.next(), 'the error');
    assert.equal(value.errors?.[0]?.extensions?.code, 'CURSOR_EXPIRED', JSON.stringify(value));
    assertNoStack(JSON.stringify(value));
    await it.return?.();
  } finally {
    await client.dispose();
  }
});
