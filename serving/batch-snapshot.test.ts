import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createSpeedApplier } from '../speed/applier.ts';
import { createServing } from './create-serving.ts';
import { EXITS_T0 as T0, exitsFixture } from './testing/exits-fixture.ts';
import type { SeriesQuery } from './types.ts';

// A kept batch snapshot is combined with the speed slices from its own watermark on: exact while
// those slices are kept, and read again when they are not (pruned, or never applied because the
// speed store was flushed and started again higher up). Real Postgres and Redis; the oracle is
// a serving instance that reads a new snapshot every time.
const HOUR = 3_600_000;

describe.skipIf(!process.env.REDIS_URL)('serving: kept batch snapshots', () => {
  const fx = exitsFixture('snapshot', 10);
  const { applier, refresher, addExits, common } = fx;
  const kept = createServing({ ...common, batchSnapshotMs: 3_600_000 });
  const fresh = createServing({ ...common, batchSnapshotMs: 0 });
  const q: SeriesQuery = { metric: 'parts_exited', grain: 'hour', from: T0, to: T0 + HOUR, where: { station: 'DIE' } };
  const total = (r: Awaited<ReturnType<typeof kept.series>>) => r.points.reduce((a, p) => a + p.value, 0);
  const fold = async () => {
    while ((await refresher.refreshOnce()) > 0);
  };

  beforeAll(fx.setUp);
  afterAll(fx.tearDown);

  it('reuses a snapshot exactly, and reads a new one once its slices are pruned or were never applied', async () => {
    await addExits(0, 30);
    await applier.cycle();
    await fold();
    await applier.cycle();
    const first = await kept.series(q);
    assert.equal(total(first), 30);
    assert.deepEqual(first.freshness.batchOffsets, [30]);

    // New events reach the speed layer only: the kept snapshot (W = 30) plus the speed slices from 30 on.
    await addExits(30, 20);
    await applier.cycle();
    const reused = await kept.series(q);
    assert.deepEqual(reused.freshness.batchOffsets, [30], 'the snapshot was not reused');
    assert.deepEqual(reused.freshness.speedOffsets, [50]);
    assert.deepEqual(reused.points, (await fresh.series(q)).points);
    assert.equal(total(reused), 50);

    // The batch layer folds them and the applier prunes slices 3 and 4: the snapshot's slices are gone.
    await fold();
    await applier.cycle();
    const after = await kept.series(q);
    assert.deepEqual(after.freshness.batchOffsets, [50], 'a snapshot whose slices were pruned was used');
    assert.equal(total(after), 50);

    // The speed store is flushed; the batch layer moves to 70; the applier starts again at 70. The
    // kept snapshot (W = 50) would miss offsets 50–69, which the speed store never held.
    await fx.flushSpeed();
    await addExits(50, 20);
    await fold();
    await addExits(70, 5);
    // This applier keeps 2 slices below the watermark (the default), so its prune alone would leave
    // the floor at 5: only the start of the partition at 70 tells readers that 50–69 are not here.
    const keeping = createSpeedApplier(common);
    await keeping.cycle();
    const restarted = await kept.series(q);
    assert.equal(total(restarted), 75);
    assert.deepEqual(restarted.points, (await fresh.series(q)).points);
    assert.deepEqual(restarted.freshness.batchOffsets, [70]);
  });
});
