import { randomUUID } from 'node:crypto';
import { speedStoreContract } from './store.contract.ts';
import { createRedisStore, deletePrefixKeys } from './redis-store.ts';
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { APPLY_LUA } from './redis-scripts.ts';
import { SLICE_BUCKET_MS } from './store.ts';
import { cellField, stateKey } from '../metrics/cell-key.ts';

// Real Redis (REDIS_URL, default the local one); an unreachable Redis fails the suite.
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
speedStoreContract('redis', async () => createRedisStore({ url, prefix: `test-${randomUUID()}`, slice: 10 }));

describe('redis store: slice hours applied before hour cells were kept', () => {
  it('are read from their minutes at grain hour, and never get an hour hash that misses them', async () => {
    const prefix = `test-${randomUUID()}`;
    const store = createRedisStore({ url, prefix, slice: 10 });
    const redis = new Redis(url);
    try {
      const H = SLICE_BUCKET_MS;
      const field = (minute: number) => cellField(stateKey(5 * H + minute * 60_000, ['DIE']), 0);
      const keys = [`{${prefix}}:speed_offset`, `{${prefix}}:meta`, `{${prefix}}:deltas`];
      const sliceKey = `{${prefix}}:slice:m:0:0:5`;
      // What the previous apply script wrote: minute cells and the indexes, no hour cells (m = 0
      // in this script's arguments is the same writes).
      await redis.eval(
        APPLY_LUA,
        3,
        ...keys,
        0,
        0,
        10,
        1,
        1,
        '',
        100,
        `{${prefix}}`,
        0,
        1,
        1,
        0,
        sliceKey,
        field(1),
        's',
        '4',
        'm',
        0,
        5,
      );
      assert.equal(await redis.exists(`{${prefix}}:hslice:m:0:0:5`), 0);
      // A later apply into the same slice hour: its hour cells would miss the 4 above, so none are kept.
      await store.apply({
        partition: 0,
        fromOffset: 10,
        toOffset: 20,
        initIfMissing: false,
        appliedAt: 2,
        updates: [{ metric: 'm', slice: 0, bucket: 5 * H + 2 * 60_000, field: field(2), op: 'sum', value: 3 }],
      });
      assert.equal(await redis.exists(`{${prefix}}:hslice:m:0:0:5`), 0);
      // Read at grain hour, that slice hour comes back as its minutes: nothing is lost.
      const r = await store.read('m', [0], undefined, ['DIE'], 'hour');
      assert.deepEqual(r.slices[0], [{ slice: 0, fields: { [field(1)]: 4, [field(2)]: 3 } }]);
      // A new slice hour gets its hour cells.
      await store.apply({
        partition: 0,
        fromOffset: 20,
        toOffset: 30,
        initIfMissing: false,
        appliedAt: 3,
        updates: [{ metric: 'm', slice: 2, bucket: 5 * H + 2 * 60_000, field: field(2), op: 'sum', value: 3 }],
      });
      const r2 = await store.read('m', [2], undefined, ['DIE'], 'hour');
      assert.deepEqual(r2.slices[0], [{ slice: 2, fields: { [cellField(stateKey(5 * H, ['DIE']), 0)]: 3 } }]);
    } finally {
      await store.close();
      await redis.quit();
      await deletePrefixKeys(url, prefix);
    }
  });
});
