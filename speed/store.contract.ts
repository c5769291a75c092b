import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { SLICE_BUCKET_MS, type SliceRead, type SpeedStore, type TimeRange } from './store.ts';
import { SEP, cellField, stateKey } from '../metrics/cell-key.ts';
import { combineCell, type CellOp } from '../metrics/define-metric.ts';

/**
 * One partition's entries of a read combined per `keyOf(field)` (default the field, its parts
 * joined by `|`) with the op of the field's cell index: what a reader makes of them, whether the
 * store returned slices or blocks of them. Checks that no entry starts below `fromSlice`.
 */
export function combinedCells(
  entries: SliceRead['slices'][number],
  fromSlice: number,
  ops: readonly CellOp[],
  keyOf: (parts: string[]) => string = (parts) => parts.join('|'),
): Array<[string, number]> {
  const t = new Map<string, number>();
  for (const e of entries) {
    assert.ok(e.slice >= fromSlice && e.last >= e.slice, `entry ${e.slice}–${e.last} read from slice ${fromSlice}`);
    for (const [field, v] of Object.entries(e.fields)) {
      const parts = field.split(SEP);
      const key = keyOf(parts);
      const old = t.get(key);
      t.set(key, old === undefined ? v : combineCell(ops[Number(parts.at(-1))], old, v));
    }
  }
  return [...t].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

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

    const upd = (
      slice: number,
      field: string,
      value: number,
      op: 'sum' | 'min' | 'max' = 'sum',
      bucket = 0,
      metric = 'm',
    ) => ({ metric, slice, bucket, field, op, value });
    const H = SLICE_BUCKET_MS;

    it('refuses a first apply unless initIfMissing, then compare-and-sets the offset', async () => {
      const s = await fresh();
      assert.deepEqual(
        await s.apply({
          partition: 0,
          fromOffset: 0,
          toOffset: 5,
          initIfMissing: false,
          updates: [upd(0, 'a', 1)],
          appliedAt: 1,
        }),
        { applied: false, offset: null },
      );
      const ok = await s.apply({
        partition: 0,
        fromOffset: 0,
        toOffset: 5,
        initIfMissing: true,
        updates: [upd(0, 'a', 2)],
        appliedAt: 1,
      });
      assert.equal(ok.applied, true);
      // Re-applying the same batch is refused (idempotent), a gap is refused too.
      assert.deepEqual(
        await s.apply({
          partition: 0,
          fromOffset: 0,
          toOffset: 5,
          initIfMissing: true,
          updates: [upd(0, 'a', 2)],
          appliedAt: 2,
        }),
        { applied: false, offset: 5 },
      );
      assert.deepEqual(
        await s.apply({
          partition: 0,
          fromOffset: 7,
          toOffset: 9,
          initIfMissing: false,
          updates: [upd(0, 'a', 2)],
          appliedAt: 2,
        }),
        { applied: false, offset: 5 },
      );
      assert.deepEqual(await s.offsets(2), [5, null]);
      const r = await s.read('m', [0, 0]);
      assert.deepEqual(r.slices[0], [{ slice: 0, last: 0, fields: { a: 2 } }]);
    });

    it('combines cells with sum, min and max, exactly for large integers', async () => {
      const s = await fresh();
      const big = 2 ** 50 + 3;
      await s.apply({
        partition: 1,
        fromOffset: 0,
        toOffset: 1,
        initIfMissing: true,
        updates: [upd(0, 's', big), upd(0, 'lo', 10, 'min'), upd(0, 'hi', 10, 'max')],
        appliedAt: 1,
      });
      await s.apply({
        partition: 1,
        fromOffset: 1,
        toOffset: 2,
        initIfMissing: false,
        updates: [upd(0, 's', 1), upd(0, 'lo', 3, 'min'), upd(0, 'hi', 3, 'max')],
        appliedAt: 2,
      });
      const r = await s.read('m', [0, 0]);
      assert.deepEqual(r.slices[1][0].fields, { s: big + 1, lo: 3, hi: 10 });
      assert.equal(r.appliedAt, 2);
    });

    it('reads only slices at or above fromSlice, and prune raises the floor', async () => {
      const s = await fresh();
      await s.apply({
        partition: 0,
        fromOffset: 0,
        toOffset: 30,
        initIfMissing: true,
        updates: [upd(0, 'x', 1), upd(1, 'x', 2), upd(2, 'x', 3)],
        appliedAt: 1,
      });
      const r = await s.read('m', [1]);
      assert.deepEqual(r.slices[0].map((e) => e.slice).sort(), [1, 2]);
      await s.prune(0, 2, ['m']);
      const r2 = await s.read('m', [0]);
      assert.deepEqual(r2.floors, [2]);
      assert.deepEqual(
        r2.slices[0].map((e) => e.slice),
        [2],
      );
    });

    it('reads only the slice hours a range overlaps, however many slices are held', async () => {
      const s = await fresh();
      // Slice 0 holds events of hours 0 and 5; slice 1 of hour 5; slice 2 of hour 9; another metric in hour 0.
      await s.apply({
        partition: 0,
        fromOffset: 0,
        toOffset: 30,
        initIfMissing: true,
        appliedAt: 1,
        updates: [
          upd(0, 'a', 1, 'sum', 0),
          upd(0, 'b', 2, 'sum', 5 * H + 60_000),
          upd(1, 'b', 3, 'sum', 5 * H),
          upd(2, 'c', 4, 'max', 9 * H),
          upd(0, 'z', 7, 'sum', 0, 'other'),
        ],
      });
      await s.apply({
        partition: 1,
        fromOffset: 0,
        toOffset: 10,
        initIfMissing: true,
        appliedAt: 2,
        updates: [upd(0, 'd', 5, 'sum', 5 * H + 1)],
      });
      const sorted = (r: Awaited<ReturnType<SpeedStore['read']>>) =>
        r.slices.map((perP) => perP.map((e) => [e.slice, e.fields]).sort((x, y) => Number(x[0]) - Number(y[0])));
      // Hour 5 only (the range ends inside hour 5): slices 0 and 1 of partition 0, slice 0 of partition 1.
      assert.deepEqual(sorted(await s.read('m', [0, 0], { from: 5 * H + 1000, to: 5 * H + 120_000 })), [
        [
          [0, { b: 2 }],
          [1, { b: 3 }],
        ],
        [[0, { d: 5 }]],
      ]);
      // A range with no data reads nothing, and still returns the offsets.
      const empty = await s.read('m', [0, 0], { from: 20 * H, to: 30 * H });
      assert.deepEqual(empty.slices, [[], []]);
      assert.deepEqual(empty.offsets, [30, 10]);
      // Hours 0..9 from slice 1 up: slices 1 and 2 only.
      assert.deepEqual(sorted(await s.read('m', [1, 1], { from: 0, to: 10 * H })), [
        [
          [1, { b: 3 }],
          [2, { c: 4 }],
        ],
        [],
      ]);
      // No range: every hour.
      assert.deepEqual((await s.read('m', [0, 0])).slices[0].map((e) => e.slice).sort(), [0, 0, 1, 2]);
      // Pruning removes every hour of the slices below, of every metric, and nothing else.
      await s.prune(0, 2, ['m', 'other']);
      assert.deepEqual(sorted(await s.read('m', [0, 0])), [[[2, { c: 4 }]], [[0, { d: 5 }]]]);
      assert.deepEqual((await s.read('other', [0, 0])).slices, [[], []]);
      // A later apply into a pruned hour of a live slice is indexed again.
      await s.apply({
        partition: 0,
        fromOffset: 30,
        toOffset: 31,
        initIfMissing: false,
        appliedAt: 3,
        updates: [upd(2, 'a', 9, 'sum', 0)],
      });
      assert.deepEqual(sorted(await s.read('m', [2, 0], { from: 0, to: H })), [[[2, { a: 9 }]], []]);
    });

    it('reads only the cells of the dimension values asked for, exactly (no prefix or pattern match)', async () => {
      const s = await fresh();
      // Dimensions (station, machine). Values with Lua pattern and glob characters, shared prefixes.
      const f = (station: string, machine: string, cell = 0, bucket = 0) =>
        cellField(stateKey(bucket, [station, machine]), cell);
      const stations = ['DIE', 'DIE2', 'XDIE', 'A-1.%', 'A-1x%', '(.*)', '', 'A*', '[D]IE', 'B\\C', 'Q?'];
      await s.apply({
        partition: 0,
        fromOffset: 0,
        toOffset: 10,
        initIfMissing: true,
        appliedAt: 1,
        updates: [
          ...stations.map((st, i) => upd(0, f(st, 'M-1'), i + 1)),
          upd(0, f('DIE', 'M-2', 1), 100),
          upd(1, f('DIE2', 'M-1'), 1000, 'sum', 2 * H),
        ],
      });
      const fields = async (dims: Array<string | null>, grain: 'minute' | 'hour' = 'minute') =>
        (await s.read('m', [0], undefined, dims, grain)).slices[0]
          .flatMap((e) => Object.entries(e.fields).map(([k, v]) => `${e.slice}:${k.split(SEP).join('|')}=${v}`))
          .sort();
      assert.deepEqual(await fields(['DIE', null]), ['0:0|DIE|M-1|0=1', '0:0|DIE|M-2|1=100']);
      assert.deepEqual(await fields(['DIE', 'M-2']), ['0:0|DIE|M-2|1=100']);
      assert.deepEqual(await fields(['A-1.%', null]), ['0:0|A-1.%|M-1|0=4']);
      assert.deepEqual(await fields(['(.*)', 'M-1']), ['0:0|(.*)|M-1|0=6']);
      assert.deepEqual(await fields(['', null]), ['0:0||M-1|0=7']);
      assert.deepEqual(await fields(['DIE2', null]), ['0:0|DIE2|M-1|0=2', '1:0|DIE2|M-1|0=1000']);
      assert.deepEqual(await fields(['A*', null]), ['0:0|A*|M-1|0=8']);
      assert.deepEqual(await fields(['[D]IE', null]), ['0:0|[D]IE|M-1|0=9']);
      assert.deepEqual(await fields(['B\\C', null]), ['0:0|B\\C|M-1|0=10']);
      assert.deepEqual(await fields(['Q?', 'M-1']), ['0:0|Q?|M-1|0=11']);
      assert.deepEqual(await fields(['[D]IE', null], 'hour'), ['0:0|[D]IE|M-1|0=9']);
      assert.deepEqual(await fields(['DIE', null], 'hour'), ['0:0|DIE|M-1|0=1', '0:0|DIE|M-2|1=100']);
      // A slice hour with none of the values is not returned; no value given reads every cell.
      assert.deepEqual((await s.read('m', [0], undefined, ['NONE', null])).slices, [[]]);
      assert.equal((await fields([null, null])).length, stations.length + 2);
    });

    it('reads cells summed up to the hour: the same totals as the minutes, per slice, dims and op', async () => {
      const s = await fresh();
      const f = (bucket: number, station: string, cell = 0) => cellField(stateKey(bucket, [station]), cell);
      const M = 60_000;
      // Two slices, two hours, two stations; sum, min and max cells; applied over two batches
      // (the second adds to hours the first already wrote).
      const batches = [
        [
          upd(0, f(5 * H + 1 * M, 'DIE'), 2, 'sum', 5 * H + 1 * M),
          upd(0, f(5 * H + 7 * M, 'DIE'), 3, 'sum', 5 * H + 7 * M),
          upd(0, f(5 * H + 7 * M, 'BND'), 10, 'sum', 5 * H + 7 * M),
          upd(0, f(5 * H + 2 * M, 'DIE', 1), 40, 'min', 5 * H + 2 * M),
          upd(0, f(5 * H + 9 * M, 'DIE', 2), 40, 'max', 5 * H + 9 * M),
          upd(1, f(6 * H + 59 * M, 'DIE'), 5, 'sum', 6 * H + 59 * M),
        ],
        [
          upd(0, f(5 * H + 30 * M, 'DIE'), 7, 'sum', 5 * H + 30 * M),
          upd(0, f(5 * H + 31 * M, 'DIE', 1), 30, 'min', 5 * H + 31 * M),
          upd(0, f(5 * H + 32 * M, 'DIE', 1), 50, 'min', 5 * H + 32 * M),
          upd(0, f(5 * H + 33 * M, 'DIE', 2), 45, 'max', 5 * H + 33 * M),
          upd(1, f(6 * H, 'DIE'), 1, 'sum', 6 * H),
        ],
      ];
      for (const [i, updates] of batches.entries())
        await s.apply({
          partition: 0,
          fromOffset: i * 10,
          toOffset: (i + 1) * 10,
          initIfMissing: i === 0,
          appliedAt: 1,
          updates,
        });
      // Entries combined per field (a store may sum slices up into blocks; the totals must agree).
      const totals = async (grain: 'minute' | 'hour', dims?: Array<string | null>, fromSlice = 0, range?: TimeRange) =>
        combinedCells((await s.read('m', [fromSlice], range, dims, grain)).slices[0], fromSlice, ['sum', 'min', 'max'])
          .map(([k, v]) => `${k}=${v}`)
          .sort();
      assert.deepEqual(await totals('hour'), [
        `${5 * H}|BND|0=10`,
        `${5 * H}|DIE|0=12`,
        `${5 * H}|DIE|1=30`,
        `${5 * H}|DIE|2=45`,
        `${6 * H}|DIE|0=6`,
      ]);
      // The minutes are still there, as applied.
      assert.equal((await totals('minute')).length, 11);
      // Dimension values, fromSlice and the range apply to hour cells as to minutes.
      assert.deepEqual(await totals('hour', ['BND']), [`${5 * H}|BND|0=10`]);
      assert.deepEqual(await totals('hour', ['DIE'], 1), [`${6 * H}|DIE|0=6`]);
      assert.deepEqual(await totals('hour', undefined, 0, { from: 6 * H, to: 7 * H }), [`${6 * H}|DIE|0=6`]);
      // Pruning removes a slice's hour cells with its minutes.
      await s.prune(0, 1, ['m']);
      assert.deepEqual(await totals('hour', undefined, 1), [`${6 * H}|DIE|0=6`]);
    });

    it('an apply that starts a partition raises its floor to initFloor; later applies leave it', async () => {
      const s = await fresh();
      const base = { partition: 1, appliedAt: 1, updates: [upd(3, 'a', 1)] };
      await s.apply({ ...base, fromOffset: 30, toOffset: 31, initIfMissing: true, initFloor: 3 });
      await s.apply({ ...base, fromOffset: 31, toOffset: 32, initIfMissing: false, initFloor: 9 });
      assert.deepEqual((await s.read('m', [0, 0])).floors, [0, 3]);
    });

    it('appends deltas atomically with the apply and resumes strictly after a cursor', async () => {
      const s = await fresh();
      assert.equal(await s.lastCursor(), '');
      const c: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await s.apply({
          partition: 0,
          fromOffset: i,
          toOffset: i + 1,
          initIfMissing: true,
          updates: [],
          delta: `d${i}`,
          appliedAt: i,
        });
        assert.equal(res.applied, true);
        if (res.applied) c.push(res.cursor!);
      }
      assert.equal(await s.lastCursor(), c[2]);
      assert.deepEqual(
        (await s.readDeltas(c[0], 10, 0)).map((d) => d.data),
        ['d1', 'd2'],
      );
      assert.deepEqual(
        (await s.readDeltas('', 10, 0)).map((d) => d.data),
        ['d0', 'd1', 'd2'],
      );
      assert.equal(await s.cursorExpired(c[0]), false);
      // A blocking read wakes up when a delta arrives.
      const waiting = s.readDeltas(c[2], 10, 5000);
      await s.apply({
        partition: 0,
        fromOffset: 3,
        toOffset: 4,
        initIfMissing: false,
        updates: [],
        delta: 'd3',
        appliedAt: 9,
      });
      assert.deepEqual(
        (await waiting).map((d) => d.data),
        ['d3'],
      );
      // A blocking read returns empty when aborted.
      const ac = new AbortController();
      const idle = s.readDeltas(await s.lastCursor(), 10, 5000, ac.signal);
      ac.abort();
      assert.deepEqual(await idle, []);
    });
  });
}
