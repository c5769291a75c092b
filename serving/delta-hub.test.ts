import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDeltaHub, type DeltaHub } from './delta-hub.ts';
import { createMemoryStore } from '../speed/memory-store.ts';
import { createRedisStore } from '../speed/redis-store.ts';
import type { SpeedStore } from '../speed/store.ts';

// The shared delta reader over both stores (Redis: the real one, REDIS_URL).
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin = new Redis(url);
after(() => void admin.disconnect());

/** Blocking reader connections of a prefix, as Redis sees them (`CLIENT LIST`); null for the memory store. */
async function redisReaders(prefix: string | null): Promise<number | null> {
  if (prefix === null) return null;
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((l) => l.includes(` name=${prefix}:deltas `)).length;
}

async function until(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function writer(store: SpeedStore) {
  let offset = 0;
  return async (n: number): Promise<string[]> => {
    const cursors: string[] = [];
    for (let i = 0; i < n; i++, offset++) {
      const delta = JSON.stringify({ n: offset });
      const r = await store.apply({
        partition: 0,
        fromOffset: offset,
        toOffset: offset + 1,
        initIfMissing: true,
        updates: [],
        delta,
        appliedAt: offset,
      });
      assert.ok(r.applied);
      cursors.push(r.cursor!);
    }
    return cursors;
  };
}

/** The next `n` cursors of an iterator. */
async function take(it: AsyncIterator<{ cursor: string }>, n: number): Promise<string[]> {
  const got: string[] = [];
  while (got.length < n) {
    const r = await it.next();
    if (r.done) break;
    got.push(r.value.cursor);
  }
  return got;
}

const stores: Array<[string, () => { store: SpeedStore; prefix: string | null }]> = [
  ['memory', () => ({ store: createMemoryStore({}), prefix: null })],
  [
    'redis',
    () => {
      const prefix = `hub-${randomUUID()}`;
      return { store: createRedisStore({ url, prefix, slice: 10 }), prefix };
    },
  ],
];

for (const [name, make] of stores) {
  describe(`shared delta reader (${name} store)`, { timeout: 60_000 }, () => {
    const open: SpeedStore[] = [];
    after(() => Promise.all(open.map((s) => s.close())));
    const fresh = (maxQueued?: number) => {
      const { store, prefix } = make();
      open.push(store);
      const hub: DeltaHub<{ cursor: string }> = createDeltaHub(store, (d) => ({ cursor: d.cursor }), {
        blockMs: 200,
        maxQueued,
      });
      return { store, prefix, hub, write: writer(store) };
    };

    it('20 subscribers share one reader, get the same deltas once each; the reader stops after them', async () => {
      const { store, prefix, hub, write } = fresh();
      await write(1);
      const start = await store.lastCursor();
      const subs = Array.from({ length: 20 }, () => hub.subscribe(start));
      const pending = subs.map((s) => take(s, 30));
      await until(() => hub.stats().joined === 20, 'every subscriber to join');
      const written = await write(30);
      const got = await Promise.all(pending);
      for (const g of got) assert.deepEqual(g, written);
      assert.equal(hub.stats().readers, 1);
      assert.equal(hub.stats().readersStarted, 1, 'one reader for all of them');
      if (prefix) assert.equal(await redisReaders(prefix), 1, 'one blocking Redis connection');
      await Promise.all(subs.map((s) => s.return!()));
      await until(() => hub.stats().readers === 0, 'the reader to stop');
      assert.deepEqual(hub.stats(), { subscribers: 0, joined: 0, readers: 0, readersStarted: 1 });
      if (prefix) await until(async () => (await redisReaders(prefix)) === 0, 'the Redis reader connection to close');
    });

    it('a subscriber resuming from an older cursor catches up, then joins: no gap, nothing twice', async () => {
      const { store, hub, write } = fresh();
      const early = await write(10);
      const live = hub.subscribe(await store.lastCursor());
      const livePending = take(live, 40);
      await until(() => hub.stats().joined === 1, 'the live subscriber to join');
      const more = await write(20);
      // Resumes from the third delta while the shared reader is ahead and deltas keep coming.
      const late = hub.subscribe(early[2]);
      const latePending = take(late, 7 + 20 + 20);
      const rest = await write(20);
      assert.deepEqual(await livePending, [...more, ...rest]);
      assert.deepEqual(await latePending, [...early.slice(3), ...more, ...rest]);
      const last = await write(1);
      assert.deepEqual(await take(late, 1), last);
      assert.deepEqual(await take(live, 1), last);
      assert.equal(hub.stats().joined, 2, 'the late subscriber joined the shared reader');
      assert.equal(hub.stats().readersStarted, 1);
      await live.return!();
      await late.return!();
      await until(() => hub.stats().readers === 0, 'the reader to stop');
    });

    it('a subscriber that stops taking deltas is ended with SLOW_CONSUMER; the others keep receiving', async () => {
      const { store, hub, write } = fresh(5);
      await write(1);
      const start = await store.lastCursor();
      const fast = hub.subscribe(start);
      const slow = hub.subscribe(start);
      const fastPending = take(fast, 12);
      const slowFirst = slow.next();
      await until(() => hub.stats().joined === 2, 'both to join');
      const written = await write(12);
      assert.equal((await slowFirst).value.cursor, written[0]);
      assert.deepEqual(await fastPending, written);
      await assert.rejects(slow.next(), (e: Error & { code?: string }) => e.code === 'SLOW_CONSUMER');
      assert.equal(hub.stats().subscribers, 1, 'the slow subscriber holds nothing any more');
      await fast.return!();
      await until(() => hub.stats().readers === 0, 'the reader to stop');
    });
  });
}
