import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { streamDeltas } from './stream-deltas.ts';
import { createMemoryStore } from '../speed/memory-store.ts';
import { createRedisStore } from '../speed/redis-store.ts';
import type { SpeedStore } from '../speed/store.ts';

// Cursors a client sends back, against both stores (Redis: the real one, REDIS_URL).
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const delta = (i: number) => JSON.stringify({ p: 0, from: i, to: i + 1, at: i, maxEventTime: i, items: [] });

async function withDeltas(store: SpeedStore, n: number): Promise<string[]> {
  const cursors: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await store.apply({
      partition: 0,
      fromOffset: i,
      toOffset: i + 1,
      initIfMissing: true,
      updates: [],
      delta: delta(i),
      appliedAt: i,
    });
    if (r.applied) cursors.push(r.cursor!);
  }
  return cursors;
}

/** The first `n` deltas the stream yields after `after` (or the error it throws). */
async function first(store: SpeedStore, after: string | null, n: number) {
  const ac = new AbortController();
  const got: string[] = [];
  try {
    for await (const d of streamDeltas(store, [], { after, signal: ac.signal })) {
      got.push(d.cursor);
      if (got.length === n) break;
    }
  } finally {
    ac.abort();
  }
  return got;
}

const code = (c: string, re: RegExp) => (err: Error & { code?: string }) => err.code === c && re.test(err.message);

const stores: Array<[string, (maxDeltas: number) => SpeedStore]> = [
  ['memory', (maxDeltas) => createMemoryStore({ maxDeltas })],
  ['redis', (maxDeltas) => createRedisStore({ url, prefix: `cursor-${randomUUID()}`, slice: 10, maxDeltas })],
];

for (const [name, make] of stores) {
  describe(`subscription cursors (${name} store)`, { timeout: 60_000 }, () => {
    const open: SpeedStore[] = [];
    after(() => Promise.all(open.map((s) => s.close())));
    const fresh = (maxDeltas = 1000) => {
      const s = make(maxDeltas);
      open.push(s);
      return s;
    };

    it('resumes strictly after a cursor it handed out', async () => {
      const s = fresh();
      const c = await withDeltas(s, 4);
      assert.deepEqual(await first(s, c[1], 2), [c[2], c[3]]);
    });

    it('an empty, malformed or far-future cursor is BAD_USER_INPUT', async () => {
      const s = fresh();
      const c = await withDeltas(s, 2);
      await assert.rejects(first(s, '', 1), code('BAD_USER_INPUT', /is empty: omit `after`/));
      await assert.rejects(first(s, 'not-a-cursor', 1), code('BAD_USER_INPUT', /is not a delta cursor/));
      await assert.rejects(first(s, '12-34-56', 1), code('BAD_USER_INPUT', /is not a delta cursor/));
      const [ms, seq] = c[1].split('-').map(Number);
      await assert.rejects(first(s, `${ms + 10 ** 9}-0`, 1), code('BAD_USER_INPUT', /is ahead of the newest delta/));
      await assert.rejects(first(s, `${ms}-${seq + 1000}`, 1), code('BAD_USER_INPUT', /is ahead of the newest delta/));
    });

    it('a cursor older than the deltas kept is CURSOR_EXPIRED (no Redis 7 feature needed)', async () => {
      // Redis trims MAXLEN ~ by whole stream nodes (100 entries): write enough to drop some.
      const s = fresh(10);
      const c = await withDeltas(s, 350);
      await assert.rejects(first(s, c[0], 1), code('CURSOR_EXPIRED', /older than the deltas kept/));
      assert.deepEqual(await first(s, c[348], 1), [c[349]]);
    });
  });
}

describe('subscription cursors (redis store): the stream is gone', () => {
  it('a cursor of a stream Redis lost is CURSOR_EXPIRED', async () => {
    const prefix = `cursor-${randomUUID()}`;
    const s = createRedisStore({ url, prefix, slice: 10 });
    const redis = new Redis(url);
    try {
      const c = await withDeltas(s, 2);
      await redis.del(`{${prefix}}:deltas`);
      await assert.rejects(first(s, c[0], 1), code('CURSOR_EXPIRED', /older than the deltas kept/));
    } finally {
      redis.disconnect();
      await s.close();
    }
  });
});
