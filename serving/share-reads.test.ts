import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createSharedReads } from '../lib/share-reads.ts';
import { createServing } from './create-serving.ts';
import { EXITS_T0 as T0, exitsFixture } from './testing/exits-fixture.ts';
import type { SeriesQuery } from './types.ts';
import type { SpeedStore } from '../speed/store.ts';

/** A read whose end the test decides: `reads[i].finish(value)` ends the i-th one started. */
function controlledReads() {
  const reads: Array<{ q: string; deadline: number | undefined; finish(v: string): void; fail(e: Error): void }> = [];
  const run = (q: string, deadline: number | undefined) =>
    new Promise<string>((resolve, reject) => reads.push({ q, deadline, finish: resolve, fail: reject }));
  return { reads, shared: createSharedReads(run) };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('shared reads', () => {
  it('questions that arrive while a read runs share the next read, never the running one', async () => {
    const { reads, shared } = controlledReads();
    const first = shared.read('k', 'q', undefined);
    const later = [1, 2, 3].map(() => shared.read('k', 'q', undefined));
    assert.equal(reads.length, 1, 'the later questions do not start reads of their own');
    reads[0].finish('snapshot before they arrived');
    assert.equal(await first, 'snapshot before they arrived');
    await tick();
    assert.equal(reads.length, 2, 'the next read starts when the running one ends');
    reads[1].finish('snapshot after they arrived');
    assert.deepEqual(await Promise.all(later), Array(3).fill('snapshot after they arrived'));
    assert.deepEqual(shared.stats(), { reads: 2, shared: 2 });
    // Nothing runs now: the next question starts a read at once.
    const again = shared.read('k', 'q', undefined);
    assert.equal(reads.length, 3);
    reads[2].finish('third');
    assert.equal(await again, 'third');
  });

  it('different questions do not share', async () => {
    const { reads, shared } = controlledReads();
    const a = shared.read('a', 'qa', undefined);
    const b = shared.read('b', 'qb', undefined);
    assert.deepEqual(
      reads.map((r) => r.q),
      ['qa', 'qb'],
    );
    reads[0].finish('A');
    reads[1].finish('B');
    assert.deepEqual([await a, await b], ['A', 'B']);
  });

  it('each member keeps its deadline; the shared read runs until the latest, or without one if a member has none', async () => {
    const { reads, shared } = controlledReads();
    const now = Date.now();
    const running = shared.read('k', 'q', now + 60_000);
    const soon = shared.read('k', 'q', now + 30);
    const late = shared.read('k', 'q', now + 50_000);
    await assert.rejects(soon, (e: Error & { code?: string }) => e.code === 'DEADLINE_EXCEEDED');
    reads[0].finish('first');
    await running;
    await tick();
    assert.equal(reads[1].deadline, now + 50_000, 'the latest deadline of its members');
    reads[1].finish('second');
    assert.equal(await late, 'second');

    const r2 = shared.read('k', 'q', now + 60_000);
    const bounded = shared.read('k', 'q', now + 60_000);
    const unbounded = shared.read('k', 'q', undefined);
    reads[2].finish('x');
    await r2;
    await tick();
    assert.equal(reads[3].deadline, undefined);
    reads[3].finish('y');
    assert.deepEqual([await bounded, await unbounded], ['y', 'y']);
  });

  it('a failed read fails its own members only, and one nobody waits for any more is not an unhandled rejection', async () => {
    const { reads, shared } = controlledReads();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const running = shared.read('k', 'q', undefined);
      const waiting = shared.read('k', 'q', Date.now() + 20);
      await assert.rejects(waiting, (e: Error & { code?: string }) => e.code === 'DEADLINE_EXCEEDED');
      reads[0].fail(new Error('store down'));
      await assert.rejects(running, /store down/);
      await tick();
      reads[1].fail(new Error('still down')); // its only member gave up
      await tick();
      await tick();
      assert.deepEqual(unhandled, []);
      const next = shared.read('k', 'q', undefined);
      reads[2].finish('back');
      assert.equal(await next, 'back');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe.skipIf(!process.env.REDIS_URL)('serving: shared reads on real Postgres and Redis', () => {
  const fx = exitsFixture('shared', 10);
  const q: SeriesQuery = {
    metric: 'parts_exited',
    grain: 'hour',
    from: T0,
    to: T0 + 3_600_000,
    where: { station: 'DIE' },
  };
  /** The real store, counting its series reads; while `hold` is set, a finished read waits for it before answering. */
  let hold: Promise<void> | null = null;
  let storeReads = 0;
  const counted: SpeedStore = Object.create(fx.store, {
    read: {
      value: async (...args: Parameters<SpeedStore['read']>) => {
        storeReads++;
        const r = await fx.store.read(...args);
        if (hold) await hold;
        return r;
      },
    },
  });

  beforeAll(async () => {
    await fx.setUp();
    await fx.addExits(0, 100);
    while ((await fx.applier.cycle()) > 0);
  });
  afterAll(fx.tearDown);

  it('ten identical questions at once run two reads, every answer exact', async () => {
    const serving = createServing({ ...fx.common, store: counted });
    storeReads = 0;
    const answers = await Promise.all(Array.from({ length: 10 }, () => serving.series(q)));
    assert.deepEqual(
      answers.map((a) => a.points[0]?.value),
      Array(10).fill(100),
    );
    assert.deepEqual(serving.readStats?.(), { reads: 2, shared: 8 });
    assert.equal(storeReads, 2);

    const unshared = createServing({ ...fx.common, store: counted, shareReads: false });
    storeReads = 0;
    await Promise.all(Array.from({ length: 10 }, () => unshared.series(q)));
    assert.equal(storeReads, 10);
    assert.equal(unshared.readStats, undefined, 'reads that are not shared are not counted as if they were');
  });

  it('entity pages are shared the same way; a different page is its own read', async () => {
    const serving = createServing(fx.common);
    const page = { entity: 'station', limit: 10 };
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => serving.entities(page)),
      serving.entities({ ...page, after: 'M' }),
    ]);
    assert.equal(answers.length, 6);
    assert.deepEqual(serving.readStats?.(), { reads: 3, shared: 3 });
  });

  it('a question asked after new data was applied never gets the answer of a read that ran before', async () => {
    const serving = createServing({ ...fx.common, store: counted });
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const readsBefore = storeReads;
    const early = serving.series(q);
    // The early read has its speed slices (100 exits) and is held before it answers.
    while (storeReads === readsBefore) await tick();
    await tick();
    await fx.addExits(100, 50);
    while ((await fx.applier.cycle()) > 0);
    const late = serving.series(q);
    hold = null;
    release();
    assert.equal((await early).points[0]?.value, 100, 'the early read saw the data of its time');
    assert.equal((await late).points[0]?.value, 150, 'the later question gets a read of its own time');
  });
});
