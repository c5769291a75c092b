import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createServing } from './create-serving.ts';
import { EXITS_T0 as T0, exitsFixture } from './testing/exits-fixture.ts';
import type { SeriesQuery } from './types.ts';

// At an hour grain the Redis store answers a long backlog with blocks of slices (speed/redis-
// scripts.ts). Serving reads the speed layer from the watermark the previous question saw, side
// by side with the batch read; once the batch layer has folded up to the middle of a block, that
// block straddles the new watermark and must be read again from it, neither dropped nor doubled.
const HOUR = 3_600_000;

describe.skipIf(!process.env.REDIS_URL)('serving: speed blocks across the batch watermark', () => {
  const fx = exitsFixture('blocks', 10);
  const { applier, refresher } = fx;
  const serving = createServing(fx.common);

  beforeAll(fx.setUp);
  afterAll(fx.tearDown);

  it('a block that straddles the watermark is read again from it: the total stays exact', async () => {
    // 1 005 exits one second apart in partition 0 (slices 0–100, all in the first hour).
    const N = 1005;
    await fx.addExits(0, N);
    while ((await applier.cycle()) > 0);
    const q: SeriesQuery = {
      metric: 'parts_exited',
      grain: 'hour',
      from: T0,
      to: T0 + HOUR,
      where: { station: 'DIE' },
    };
    const before = await serving.series(q);
    assert.equal(before.points[0]?.value, N);
    assert.equal(before.freshness.speedShare, 1);

    // The batch layer folds slices 0–99 (W = 1 000, slice 100): inside the block of slices 96–111.
    while ((await refresher.refreshOnce()) > 0);
    const after = await serving.series(q);
    assert.deepEqual(after.freshness.batchOffsets, [1000]);
    assert.equal(after.points[0]?.value, N);
    assert.equal(after.freshness.batchShare, 1000 / N);
  });
});
