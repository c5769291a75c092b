import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { migrate } from '../store/migrate.ts';
import { createRedisStore, deletePrefixKeys } from '../speed/redis-store.ts';
import { createSpeedApplier } from '../speed/applier.ts';
import { createRefresher } from '../batch/refresher.ts';
import { allMetrics } from '../metrics/index.ts';
import { createServing } from './create-serving.ts';
import type { SeriesQuery } from './types.ts';

// At an hour grain the Redis store answers a long backlog with blocks of slices (speed/redis-
// scripts.ts). Serving reads the speed layer from the watermark the previous question saw, side
// by side with the batch read; once the batch layer has folded up to the middle of a block, that
// block straddles the new watermark and must be read again from it, neither dropped nor doubled.
const redisUrl = process.env.REDIS_URL;
const pool = testPool();
const schema = testSchemaName('blocks');
const prefix = `test-blocks-${randomBytes(3).toString('hex')}`;
const SLICE = 10;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

describe.skipIf(!redisUrl)('serving: speed blocks across the batch watermark', () => {
  const store = createRedisStore({ url: redisUrl ?? 'redis://127.0.0.1:6379', prefix, slice: SLICE });
  const common = { pool, schema, store, metrics: allMetrics, partitions: 1, slice: SLICE };
  const applier = createSpeedApplier({ ...common, retainSlices: 0 });
  const refresher = createRefresher({ pool, schema, metrics: allMetrics, partitions: 1, slice: SLICE });
  const serving = createServing(common);

  beforeAll(async () => {
    await migrate(pool, schema, 1);
  });
  afterAll(async () => {
    await store.close();
    await dropSchema(pool, schema);
    await pool.end();
    await deletePrefixKeys(redisUrl!, prefix);
  });

  it('a block that straddles the watermark is read again from it: the total stays exact', async () => {
    // 1 005 exits one second apart in partition 0 (slices 0–100, all in the first hour).
    const N = 1005;
    await pool.query(
      `INSERT INTO ${schema}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
       SELECT 't' || g, 'test', 'machining.exit', 'P' || g, $2::bigint + g * 1000,
              jsonb_build_object('partId', 'P' || g, 'station', 'DIE', 'machine', 'M-1', 'operator', 'E0001',
                                 'cycleTimeMs', 20000),
              0, g
         FROM generate_series(0, $1::bigint - 1) g`,
      [N, T0],
    );
    await pool.query(`UPDATE ${schema}.loader_offsets SET next_offset = $1 WHERE partition = 0`, [N]);
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
