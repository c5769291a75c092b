import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import type { SpeedStore } from './store.ts';

/** One contract, every speed store: the semantics the applier and serving rely on. */
export function speedStoreContract(name: string, make: () => Promise<SpeedStore>): void {
  describe(`speed store contract: ${name}`, () => {
    const stores: SpeedStore[] = [];
    const fresh = async () => {
      const s = await make();
      stores.push(s);
      return s;
    };
    after(async () => {
      for (const s of stores) await s.close();
    });

    const upd = (slice: number, field: string, value: number, op: 'sum' | 'min' | 'max' = 'sum') => ({ metric: 'm', slice, field, op, value });

    it('refuses a first apply unless initIfMissing, then compare-and-sets the offset', async () => {
      const s = await fresh();
      assert.deepEqual(await s.apply({ partition: 0, fromOffset: 0, toOffset: 5, initIfMissing: false, updates: [upd(0, 'a', 1)], appliedAt: 1 }), { applied: false, offset: null });
      const ok = await s.apply({ partition: 0, fromOffset: 0, toOffset: 5, initIfMissing: true, updates: [upd(0, 'a', 2)], appliedAt: 1 });
      assert.equal(ok.applied, true);
      // Re-applying the same batch is refused (idempotent), a gap is refused too.
      assert.deepEqual(await s.apply({ partition: 0, fromOffset: 0, toOffset: 5, initIfMissing: true, updates: [upd(0, 'a', 2)], appliedAt: 2 }), { applied: false, offset: 5 });
      assert.deepEqual(await s.apply({ partition: 0, fromOffset: 7, toOffset: 9, initIfMissing: false, updates: [upd(0, 'a', 2)], appliedAt: 2 }), { applied: false, offset: 5 });
      assert.deepEqual(await s.offsets(2), [5, null]);
      const r = await s.read('m', [0, 0]);
      assert.deepEqual(r.slices[0], [{ slice: 0, fields: { a: 2 } }]);
    });

    it('combines cells with sum, min and max, exactly for large integers', async () => {
      const s = await fresh();
      const big = 2 ** 50 + 3;
      await s.apply({ partition: 1, fromOffset: 0, toOffset: 1, initIfMissing: true, updates: [upd(0, 's', big), upd(0, 'lo', 10, 'min'), upd(0, 'hi', 10, 'max')], appliedAt: 1 });
      await s.apply({ partition: 1, fromOffset: 1, toOffset: 2, initIfMissing: false, updates: [upd(0, 's', 1), upd(0, 'lo', 3, 'min'), upd(0, 'hi', 3, 'max')], appliedAt: 2 });
      const r = await s.read('m', [0, 0]);
      assert.deepEqual(r.slices[1][0].fields, { s: big + 1, lo: 3, hi: 10 });
      assert.equal(r.appliedAt, 2);
    });

    it('reads only slices at or above fromSlice, and prune raises the floor', async () => {
      const s = await fresh();
      await s.apply({ partition: 0, fromOffset: 0, toOffset: 30, initIfMissing: true, updates: [upd(0, 'x', 1), upd(1, 'x', 2), upd(2, 'x', 3)], appliedAt: 1 });
      const r = await s.read('m', [1]);
      assert.deepEqual(r.slices[0].map((e) => e.slice).sort(), [1, 2]);
      await s.prune(0, 2, ['m']);
      const r2 = await s.read('m', [0]);
      assert.deepEqual(r2.floors, [2]);
      assert.deepEqual(r2.slices[0].map((e) => e.slice), [2]);
    });

    it('appends deltas atomically with the apply and resumes strictly after a cursor', async () => {
      const s = await fresh();
      assert.equal(await s.lastCursor(), '');
      const c: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await s.apply({ partition: 0, fromOffset: i, toOffset: i + 1, initIfMissing: true, updates: [], delta: `d${i}`, appliedAt: i });
        assert.equal(res.applied, true);
        if (res.applied) c.push(res.cursor!);
      }
      assert.equal(await s.lastCursor(), c[2]);
      assert.deepEqual((await s.readDeltas(c[0], 10, 0)).map((d) => d.data), ['d1', 'd2']);
      assert.deepEqual((await s.readDeltas('', 10, 0)).map((d) => d.data), ['d0', 'd1', 'd2']);
      assert.equal(await s.cursorExpired(c[0]), false);
      // A blocking read wakes up when a delta arrives.
      const waiting = s.readDeltas(c[2], 10, 5000);
      await s.apply({ partition: 0, fromOffset: 3, toOffset: 4, initIfMissing: false, updates: [], delta: 'd3', appliedAt: 9 });
      assert.deepEqual((await waiting).map((d) => d.data), ['d3']);
      // A blocking read returns empty when aborted.
      const ac = new AbortController();
      const idle = s.readDeltas((await s.lastCursor()), 10, 5000, ac.signal);
      ac.abort();
      assert.deepEqual(await idle, []);
    });
  });
}
