import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { migrate } from '../store/migrate.ts';
import { createRedisStore } from '../speed/redis-store.ts';
import { createServing } from '../serving/create-serving.ts';
import type { Serving } from '../serving/types.ts';
import { allMetrics } from '../metrics/index.ts';
import { FIXTURE_CALENDAR } from '../serving/testing/fixture-serving.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/create-subgraph-server.ts';
import { createGateway, type Gateway } from './create-gateway.ts';
import { createAuthenticator } from './create-authenticator.ts';
import { AUTH, FIXTURE_SECRET, within } from './testing/start-fixture-stack.ts';
import type { SpeedStore } from '../speed/store.ts';

// Subscriptions on the real stores (Postgres, Redis), a real subgraph and the real gateway: many
// subscribers, one Redis reader; a resuming one misses nothing; a paused one is closed, not buffered.
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `shared-${randomBytes(4).toString('hex')}`;
const pool = testPool();
const schema = testSchemaName('shared_subs');
const admin = new Redis(url);
const logs: string[] = [];
const MAX_UNSENT = 64 * 1024;
let store: SpeedStore;
let serving: Serving;
let subgraph: SubgraphServer;
let gateway: Gateway;
let offset = 0;

beforeAll(async () => {
  await migrate(pool, schema, 1);
  store = createRedisStore({ url, prefix, slice: 1000 });
  serving = createServing({ pool, schema, store, metrics: allMetrics, partitions: 1, slice: 1000 });
  subgraph = await createSubgraphServer({ name: 'production', serving, calendar: FIXTURE_CALENDAR, log: () => {} });
  gateway = await createGateway({
    port: 0,
    subgraphs: [{ name: 'production', url: subgraph.url, wsUrl: subgraph.wsUrl, sdl: subgraph.sdl }],
    health: async () => ({ ready: true, components: {} }),
    security: { authenticator: createAuthenticator({ secret: FIXTURE_SECRET }, () => {}) },
    slowConsumer: { maxUnsentBytes: MAX_UNSENT },
    logging: false,
    log: (line) => void logs.push(line),
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await subgraph?.close();
  await store?.close();
  admin.disconnect();
  await dropSchema(pool, schema);
  await pool.end();
});

/** Write `n` speed-layer deltas of `items` PARTS_EXITED items each; their cursors. */
async function write(n: number, items = 1): Promise<string[]> {
  const cursors: string[] = [];
  for (let i = 0; i < n; i++, offset++) {
    const payload = {
      p: 0,
      from: offset,
      to: offset + 1,
      at: Date.now(),
      maxEventTime: Date.now(),
      items: Array.from({ length: items }, (_, k) => ['parts_exited', 1_764_000_000_000, [`S${k}`], [offset]]),
    };
    const r = await store.apply({
      partition: 0,
      fromOffset: offset,
      toOffset: offset + 1,
      initIfMissing: true,
      updates: [],
      delta: JSON.stringify(payload),
      appliedAt: Date.now(),
    });
    assert.ok(r.applied);
    cursors.push(r.cursor!);
  }
  return cursors;
}

const feed = () => serving.deltaFeed!();
const shared = () => {
  const { groups, members } = gateway.subscriptionStats();
  return { groups, members };
};
const redisReaders = async () =>
  ((await admin.client('LIST')) as string).split('\n').filter((l) => l.includes(` name=${prefix}:deltas `)).length;

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(feed())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const newClient = (): Client =>
  createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: { ...AUTH },
  });
const QUERY = 'subscription($after: String) { productionDeltas(after: $after, metrics: [PARTS_EXITED]) { cursor } }';
// With every item: a delta of 200 items is ~10 KB on the wire.
const WITH_ITEMS =
  'subscription { productionDeltas(metrics: [PARTS_EXITED]) { cursor items { metric station value } } }';

/** The cursors of the next `n` messages. */
async function take(it: AsyncIterator<any>, n: number, what: string): Promise<string[]> {
  const got: string[] = [];
  while (got.length < n) {
    const r = await within(it.next(), what, 20_000);
    if (r.done) break;
    assert.equal(r.value.errors, undefined, JSON.stringify(r.value.errors));
    got.push(r.value.data.productionDeltas.cursor);
  }
  return got;
}

describe('shared subscriptions through the gateway (real Redis, subgraph, gateway)', { timeout: 120_000 }, () => {
  it('20 subscribers: one Redis reader, same deltas once each; resuming: no gap, no double; reader stops', async () => {
    const first = await write(3);
    const clients = Array.from({ length: 20 }, newClient);
    const subs = clients.map((c) => c.iterate<any>({ query: QUERY }));
    const pending = subs.map((s) => take(s, 10, 'the live deltas'));
    await until(() => gateway.subscriptionStats().members === 20, 'all 20 to subscribe');
    assert.deepEqual(shared(), { groups: 1, members: 20 }, 'one shared execution at the gateway');
    await until(() => feed().joined === 1, 'the shared upstream to reach the store reader');
    assert.equal(feed().subscribers, 1, 'one upstream subscription at the subgraph for 20 clients');
    assert.equal(await redisReaders(), 1, 'one blocking Redis connection for 20 subscribers');
    assert.equal(feed().readers, 1);

    const live = await write(10);
    for (const got of await Promise.all(pending)) assert.deepEqual(got, live);

    // Resumes from the second delta while the shared reader is 11 ahead and more keep coming.
    const resumed = clients[0].iterate<any>({ query: QUERY, variables: { after: first[1] } });
    const resumedPending = take(resumed, 1 + 10 + 5, 'the resumed deltas');
    const more = await write(5);
    assert.deepEqual(await resumedPending, [first[2], ...live, ...more]);
    assert.deepEqual(await take(subs[5], 5, 'the live deltas'), more);
    assert.equal(await redisReaders(), 1, 'still one Redis reader');
    assert.deepEqual(shared(), { groups: 2, members: 21 }, 'a resume from a cursor is not shared');

    await resumed.return?.();
    await Promise.all(subs.map((s) => s.return?.()));
    await until(() => feed().subscribers === 0 && feed().readers === 0, 'the shared reader to stop');
    await until(async () => (await redisReaders()) === 0, 'the Redis reader connection to close');
    assert.deepEqual(shared(), { groups: 0, members: 0 });
    await Promise.all(clients.map((c) => c.dispose()));
  });

  it('a client that stops reading is closed with 1008 "slow consumer"; the others receive every delta', async () => {
    const fastClient = newClient();
    const fast = fastClient.iterate<any>({ query: WITH_ITEMS });
    const fastFirst = take(fast, 1, 'the first delta');

    const slow = new WebSocket(gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      slow.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init', payload: { ...AUTH } }));
    await new Promise((resolve) => slow.once('message', resolve));
    slow.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: WITH_ITEMS } }));
    await until(() => gateway.subscriptionStats().members === 2, 'both to subscribe');
    await until(() => feed().joined === 1, 'the shared upstream to reach the store reader');
    assert.equal(feed().subscribers, 1, 'the two share one upstream subscription');
    // The client stops reading: its kernel buffers fill, then the gateway's queue for it.
    slow.pause();

    const written: string[] = [];
    written.push(...(await write(1, 200)));
    assert.deepEqual(await fastFirst, written);
    // The fast client reads all along (it has the same 64 KiB budget), until it has every delta written.
    const fastGot: string[] = [];
    let target = Infinity;
    const fastDone = (async () => {
      while (fastGot.length < target) fastGot.push(...(await take(fast, 1, 'a delta for the fast client')));
    })();
    fastDone.catch(() => undefined); // awaited below; a failure before that must not be unhandled
    for (let round = 0; round < 100 && !logs.some((l) => l.includes('slow consumer')); round++) {
      written.push(...(await write(50, 200)));
    }
    assert.ok(
      logs.some((l) => l.includes('slow consumer')),
      'the gateway closed the slow consumer (after 5 000 deltas of 200 items)',
    );
    target = written.length - 1;
    await fastDone;
    assert.deepEqual(fastGot, written.slice(1), 'the fast client got every delta once, in order');

    slow.resume();
    const { code, reason } = await within(closed, 'the slow socket to close', 20_000);
    assert.equal(code, 1008);
    assert.match(reason, /^slow consumer: \d+ bytes unsent \(limit 65536\)$/);
    // It left the shared execution; the fast client still holds it.
    await until(() => gateway.subscriptionStats().members === 1, 'the slow subscriber to be released');
    assert.equal(feed().subscribers, 1);

    await fast.return?.();
    await fastClient.dispose();
    await until(() => feed().subscribers === 0 && feed().readers === 0, 'the shared reader to stop');
  });

  it('a subscriber joining a shared stream is charged against its rate limit like any other operation', async () => {
    // Its own gateway: a burst of 3 operations per client, refilled at 1 a minute.
    const limited = await createGateway({
      port: 0,
      subgraphs: [{ name: 'production', url: subgraph.url, wsUrl: subgraph.wsUrl, sdl: subgraph.sdl }],
      health: async () => ({ ready: true, components: {} }),
      security: {
        authenticator: createAuthenticator({ secret: FIXTURE_SECRET }, () => {}),
        rateLimit: { perMinute: 1, burst: 3 },
      },
      logging: false,
      log: () => undefined,
    });
    const client = createClient({
      url: limited.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      connectionParams: { ...AUTH },
    });
    try {
      // One after another, the same live tail: the first leads, the others would join it.
      const outcomes: string[] = [];
      const open: Array<AsyncIterator<any>> = [];
      for (let i = 0; i < 5; i++) {
        const it = client.iterate<any>({ query: QUERY });
        const first = within(it.next(), `subscriber ${i}`, 20_000).then(
          (r) => (r.done ? 'ended' : r.value.errors ? JSON.stringify(r.value.errors) : 'delta'),
          (err: unknown) => JSON.stringify(err),
        );
        if (i < 3) {
          await until(() => limited.subscriptionStats().members === i + 1, `subscriber ${i} to be live`);
          open.push(it);
          outcomes.push('live');
          void first;
        } else outcomes.push(await first);
      }
      assert.deepEqual(outcomes.slice(0, 3), ['live', 'live', 'live']);
      for (const o of outcomes.slice(3)) assert.match(o, /RATE_LIMITED/, `over the burst: ${o}`);
      assert.equal(limited.subscriptionStats().groups, 1);
      assert.equal(limited.subscriptionStats().members, 3, 'the refused ones never joined');
      await Promise.all(open.map((it) => it.return?.()));
    } finally {
      await client.dispose();
      await limited.close();
    }
  });

  it('productionUpdates: a subscriber arriving after the shared SNAPSHOT went out gets a snapshot of its own', async () => {
    const q = 'subscription { productionUpdates { kind cursor } }';
    const a = newClient();
    const b = newClient();
    const first = a.iterate<any>({ query: q });
    const snapA = (await within(first.next(), 'the first snapshot')).value.data.productionUpdates;
    assert.equal(snapA.kind, 'SNAPSHOT');
    const second = b.iterate<any>({ query: q });
    const snapB = (await within(second.next(), 'the second snapshot')).value.data.productionUpdates;
    assert.equal(snapB.kind, 'SNAPSHOT', 'not joined mid-stream: its own snapshot first');
    assert.deepEqual(shared(), { groups: 2, members: 2 }, 'two executions');
    const [c] = await write(1);
    for (const it of [first, second]) {
      const d = (await within(it.next(), 'the delta')).value.data.productionUpdates;
      assert.deepEqual(d, { kind: 'DELTA', cursor: c });
    }
    await first.return?.();
    await second.return?.();
    await Promise.all([a.dispose(), b.dispose()]);
    await until(() => feed().subscribers === 0 && feed().readers === 0, 'the shared reader to stop');
  });
});
