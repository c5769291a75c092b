import { randomUUID } from 'node:crypto';
import { combinedCells, speedStoreContract } from './store.contract.ts';
import { createRedisStore, deletePrefixKeys } from './redis-store.ts';
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { SLICE_BUCKET_MS } from './store.ts';
import { cellField, stateKey } from '../metrics/cell-key.ts';

// Real Redis (REDIS_URL, default the local one); an unreachable Redis fails the suite.
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
speedStoreContract('redis', async () => createRedisStore({ url, prefix: `test-${randomUUID()}`, slice: 10 }));

describe('redis store: hour cells', () => {
  const H = SLICE_BUCKET_MS;
  const field = (bucket: number, station = 'DIE', cell = 0) => cellField(stateKey(bucket, [station]), cell);

  it('slices applied before hour cells were kept are read from their minutes; later ones get hour cells', async () => {
    const prefix = `test-${randomUUID()}`;
    const store = createRedisStore({ url, prefix, slice: 10 });
    const redis = new Redis(url);
    try {
      const P = `{${prefix}}`;
      // What the previous apply script left: offset 10 in partition 0, minute cells of slice 0 in
      // hour 5 and their index entries, nothing else.
      await redis.hset(`${P}:speed_offset`, '0', '10');
      await redis.hincrby(`${P}:slice:m:0:0:5`, field(5 * H + 60_000), 4);
      await redis.zadd(`${P}:hours:m:0`, 5, '0:5');
      await redis.zadd(`${P}:slices:0`, 0, 'm:0:5');
      // An apply into the same slice hour: hour cells would miss the 4 above, so slice 0 gets none.
      const apply = (from: number, slice: number, minute: number, value: number) =>
        store.apply({
          partition: 0,
          fromOffset: from,
          toOffset: from + 10,
          initIfMissing: false,
          appliedAt: 2,
          updates: [
            {
              metric: 'm',
              slice,
              bucket: 5 * H + minute * 60_000,
              field: field(5 * H + minute * 60_000),
              op: 'sum',
              value,
            },
          ],
        });
      await apply(10, 0, 2, 3);
      assert.equal(await redis.exists(`${P}:hslice:m:0:0:5`), 0);
      assert.equal(await redis.hget(`${P}:hfrom`, '0'), '2');
      // Read at grain hour, slice 0 comes back as its minutes: nothing is lost.
      const r = await store.read('m', [0], undefined, ['DIE'], 'hour');
      assert.deepEqual(r.slices[0], [
        { slice: 0, last: 0, fields: { [field(5 * H + 60_000)]: 4, [field(5 * H + 2 * 60_000)]: 3 } },
      ]);
      // From slice 2 on, hour cells.
      await apply(20, 2, 2, 5);
      const r2 = await store.read('m', [0], undefined, ['DIE'], 'hour');
      assert.deepEqual(r2.slices[0], [
        { slice: 0, last: 0, fields: { [field(5 * H + 60_000)]: 4, [field(5 * H + 2 * 60_000)]: 3 } },
        { slice: 2, last: 2, fields: { [field(5 * H)]: 5 } },
      ]);
    } finally {
      await store.close();
      await redis.quit();
      await deletePrefixKeys(url, prefix);
    }
  });

  it('a long backlog is read in blocks: the same totals as its minutes from any slice, in a few hashes', async () => {
    const prefix = `test-${randomUUID()}`;
    const store = createRedisStore({ url, prefix, slice: 10 });
    try {
      // 700 slices of partition 0, each with cells in hours 5 and 6 and in one of hours 23–25 (across
      // a day's end: the coarse blocks keep a hash per day), two stations, sum and max.
      const N = 700;
      for (let a = 0; a < N; a += 50) {
        const updates = [];
        for (let sl = a; sl < a + 50; sl++) {
          for (const [hour, station] of [
            [5, 'DIE'],
            [6, 'BND'],
            [23 + (sl % 3), 'DIE'],
          ] as const) {
            const bucket = hour * H + (sl % 60) * 60_000;
            updates.push(
              { metric: 'm', slice: sl, bucket, field: field(bucket, station), op: 'sum' as const, value: sl + 1 },
              {
                metric: 'm',
                slice: sl,
                bucket,
                field: field(bucket, station, 1),
                op: 'max' as const,
                value: (sl * 7919) % 1000,
              },
            );
          }
        }
        await store.apply({
          partition: 0,
          fromOffset: a * 10,
          toOffset: (a + 50) * 10,
          initIfMissing: a === 0,
          appliedAt: 1,
          updates,
        });
      }
      const totals = async (
        grain: 'minute' | 'hour',
        from: number,
        dims?: Array<string | null>,
        range?: { from: number; to: number },
      ) => {
        const r = await store.read('m', [from], range, dims, grain);
        // Per hour, station and cell (cell 0 is a sum, cell 1 a max).
        const t = combinedCells(r.slices[0], from, ['sum', 'max'], ([bucket, station, cell]) =>
          [Math.floor(Number(bucket) / H), station, cell].join('|'),
        );
        return { entries: r.slices[0].length, totals: Object.fromEntries(t) };
      };
      for (const from of [0, 1, 15, 16, 17, 255, 256, 257, 300, 511, 512, 699, 700]) {
        const minute = await totals('minute', from);
        const hour = await totals('hour', from);
        assert.deepEqual(hour.totals, minute.totals, `from slice ${from}`);
        // At most 3 singles, 3 blocks of 4 and 3 of 16 per hour (5 hours), then 3 blocks of 64 and
        // the blocks of 256 per day (2 days).
        assert.ok(hour.entries <= 5 * 9 + 2 * (3 + Math.ceil(N / 256)), `${hour.entries} entries from ${from}`);
        assert.deepEqual((await totals('hour', from, ['BND'])).totals, (await totals('minute', from, ['BND'])).totals);
        // A range cuts the day-wide hashes of the coarse blocks to its hours.
        for (const range of [
          { from: 6 * H, to: 24 * H },
          { from: 24 * H, to: 25 * H },
          { from: 0, to: 6 * H },
        ]) {
          const want = (await totals('minute', from, undefined, range)).totals;
          assert.deepEqual((await totals('hour', from, undefined, range)).totals, want, `${from} ${range.from / H}h`);
        }
      }
      // The whole backlog in a handful of hashes, not 1 400.
      assert.ok(
        (await totals('hour', 0)).entries <= 2 * 3,
        'blocks of 256 cover the backlog from slice 0, a hash per day',
      );
      // Pruning below 300 leaves the totals from 300 on exact, and drops the blocks wholly below.
      await store.prune(0, 300, ['m']);
      assert.deepEqual((await totals('hour', 300)).totals, (await totals('minute', 300)).totals);
      const redis = new Redis(url);
      try {
        assert.equal(await redis.exists(`{${prefix}}:blk:m:0:256:0:0`), 0);
        assert.equal(await redis.exists(`{${prefix}}:blk:m:0:256:1:0`), 1);
        assert.equal(await redis.exists(`{${prefix}}:blk:m:0:256:1:1`), 1);
        assert.equal(await redis.exists(`{${prefix}}:blk:m:0:16:17:5`), 0);
        assert.equal(await redis.exists(`{${prefix}}:blk:m:0:16:18:5`), 1);
      } finally {
        await redis.quit();
      }
    } finally {
      await store.close();
      await deletePrefixKeys(url, prefix);
    }
  });
});
