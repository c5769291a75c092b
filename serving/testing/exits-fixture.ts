import { randomBytes } from 'node:crypto';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { migrate } from '../../store/migrate.ts';
import { createRedisStore, deletePrefixKeys } from '../../speed/redis-store.ts';
import { createSpeedApplier } from '../../speed/applier.ts';
import { createRefresher } from '../../batch/refresher.ts';
import { allMetrics } from '../../metrics/index.ts';

/** The first exit's event time: exits come one second apart from here. */
export const EXITS_T0 = Date.UTC(2026, 10, 1);

/**
 * One partition of machining exits at station DIE on real Postgres and Redis, for serving tests
 * that move the batch watermark and the speed slices by hand: a schema and a key prefix of their
 * own, the Redis store, an applier that keeps no slice below the watermark, and a refresher.
 * `common` is what a serving instance (or another applier) over the same data takes.
 */
export function exitsFixture(name: string, slice: number) {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const pool = testPool();
  const schema = testSchemaName(name);
  const prefix = `test-${name}-${randomBytes(3).toString('hex')}`;
  const store = createRedisStore({ url: redisUrl, prefix, slice });
  const common = { pool, schema, store, metrics: allMetrics, partitions: 1, slice };
  return {
    pool,
    schema,
    store,
    common,
    applier: createSpeedApplier({ ...common, retainSlices: 0 }),
    refresher: createRefresher({ pool, schema, metrics: allMetrics, partitions: 1, slice }),
    /** Exits at log offsets [first, first + count) of partition 0, loaded (the loader offset moves to their end). */
    async addExits(first: number, count: number): Promise<void> {
      await pool.query(
        `INSERT INTO ${schema}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
         SELECT 't' || g, 'test', 'machining.exit', 'P' || g, $3::bigint + g * 1000,
                jsonb_build_object('partId', 'P' || g, 'station', 'DIE', 'machine', 'M-1', 'operator', 'E0001',
                                   'cycleTimeMs', 20000),
                0, g
           FROM generate_series($1::bigint, $2::bigint - 1) g`,
        [first, first + count, EXITS_T0],
      );
      await pool.query(`UPDATE ${schema}.loader_offsets SET next_offset = $1 WHERE partition = 0`, [first + count]);
    },
    /** Empty the speed store (every key of the prefix). */
    flushSpeed: () => deletePrefixKeys(redisUrl, prefix),
    setUp: () => migrate(pool, schema, 1),
    async tearDown(): Promise<void> {
      await store.close();
      await dropSchema(pool, schema);
      await pool.end();
      await deletePrefixKeys(redisUrl, prefix);
    },
  };
}
