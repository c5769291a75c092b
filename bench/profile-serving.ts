/**
 * Where a serving read spends its time: seeds a small deployment, then times the batch read, the
 * speed read and the merge of N identical queries (phases in ms, p50). Run with --cpu-prof for a
 * profile: `node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-serving.ts [N] [backlog]`.
 * With `backlog` (events, e.g. 200000), that many more events in the last day are applied to the
 * speed layer only: the batch layer is that far behind.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { allMetrics } from '../metrics/index.ts';
import { createRefresher } from '../batch/refresher.ts';
import { createSpeedApplier } from '../speed/applier.ts';
import { createRedisStore, deletePrefixKeys } from '../speed/redis-store.ts';
import { createServing } from '../serving/create-serving.ts';
import { readBatch } from '../serving/read-batch.ts';
import { migrate } from '../store/migrate.ts';
import { seedRaw } from './seed-raw.ts';
import { percentile } from './stats.ts';

const DAY = 86_400_000;
const N = Number(process.argv[2] ?? 200);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const id = randomBytes(3).toString('hex');
const schema = `bench_prof_${id}`;
const prefix = `bench-prof-${id}`;
const store = createRedisStore({ url: process.env.REDIS_URL!, prefix, slice: 500 });
try {
  await migrate(pool, schema, 4);
  const end = Date.UTC(2026, 10, 30);
  await seedRaw(pool, schema, { first: 0, count: 202_000, partitions: 4, from: end - 30 * DAY, to: end });
  const applier = createSpeedApplier({
    pool,
    schema,
    store,
    metrics: allMetrics,
    partitions: 4,
    slice: 500,
    batchSize: 5000,
  });
  const refresher = createRefresher({ pool, schema, metrics: allMetrics, partitions: 4, slice: 500 });
  while ((await applier.cycle()) > 0);
  while ((await refresher.refreshOnce()) > 0);
  await applier.cycle();
  const backlog = Math.floor(Number(process.argv[3] ?? 0) / 4) * 4;
  if (backlog > 0) {
    await seedRaw(pool, schema, { first: 202_000, count: backlog, partitions: 4, from: end - DAY, to: end });
    while ((await applier.cycle()) > 0);
  }
  const serving = createServing({ pool, schema, store, metrics: allMetrics, partitions: 4, slice: 500 });
  const metric = allMetrics.find((m) => m.name === 'parts_exited')!;
  const q = { metric: 'parts_exited', grain: 'hour' as const, from: end - DAY, to: end, where: { station: 'DIE' } };
  const t = { batch: [] as number[], speed: [] as number[], total: [] as number[] };
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    const b = await readBatch(pool, schema, {
      metric,
      grain: 'hour',
      from: q.from,
      to: q.to,
      where: [['station', 'DIE']],
    });
    t.batch.push(performance.now() - t0);
    t0 = performance.now();
    const sr = await store.read(
      'parts_exited',
      b.watermarks.map((w) => Math.floor(w / 500)),
      { from: q.from, to: q.to },
      metric.dimensionNames.map((d) => (d === 'station' ? 'DIE' : null)),
      'hour',
    );
    t.speed.push(performance.now() - t0);
    if (i === 0)
      console.log(
        `speed read: ${sr.slices.map((e) => e.length).join(' + ')} entries (slice hours or blocks) from slices ${b.watermarks.map((w) => Math.floor(w / 500)).join(', ')}`,
      );
    t0 = performance.now();
    await serving.series(q);
    t.total.push(performance.now() - t0);
  }
  for (const [k, xs] of Object.entries(t))
    console.log(`${k.padEnd(6)} p50 ${percentile(xs, 50).toFixed(2)} ms  p99 ${percentile(xs, 99).toFixed(2)} ms`);
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
  await store.close();
  await deletePrefixKeys(process.env.REDIS_URL!, prefix);
}
