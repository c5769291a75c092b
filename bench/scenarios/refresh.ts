import type pg from 'pg';
import { createRefresher } from '../../batch/refresher.ts';
import { allMetrics } from '../../metrics/index.ts';
import { ident, migrate } from '../../store/migrate.ts';
import { seedRaw } from '../seed-raw.ts';
import type { Figures } from '../stats.ts';

export interface RefreshScenario {
  pool: pg.Pool;
  schema: string;
  partitions: number;
  slice: number;
  /** Events already folded before the new data arrives. */
  base: number;
  /** New data as a share of `base`, percent. */
  shares: number[];
  runs: number;
  figures: Figures;
  log: (line: string) => void;
}

const DAY = 86_400_000;

/**
 * Incremental refresh vs full rebuild: `base` events are folded; then x % new events arrive (times
 * spread over the same 30 days, so they merge into old buckets as late data would). Incremental =
 * the refresher folds only the new rows; full rebuild = rollups emptied and everything folded
 * again. Each run restores the same starting point; the two variants alternate.
 */
export async function runRefreshScenario(o: RefreshScenario): Promise<void> {
  const s = ident(o.schema);
  await migrate(o.pool, o.schema, o.partitions);
  const from = Date.UTC(2026, 9, 1);
  const to = from + 30 * DAY;
  o.log(`refresh: seeding ${o.base} events`);
  await seedRaw(o.pool, o.schema, { first: 0, count: o.base, partitions: o.partitions, from, to });
  const refresher = createRefresher({
    pool: o.pool,
    schema: o.schema,
    metrics: allMetrics,
    partitions: o.partitions,
    slice: o.slice,
  });
  const foldAll = async () => {
    const t0 = performance.now();
    let n = 0;
    for (let k; (k = await refresher.refreshOnce()) > 0;) n += k;
    return { ms: performance.now() - t0, offsets: n };
  };
  const base = await foldAll();
  o.figures.add(
    'batch refresh',
    'fold (all grains, all metrics)',
    'throughput',
    'events/s',
    (base.offsets / base.ms) * 1000,
  );
  await o.pool.query(`CREATE TABLE ${s}.rollups_base AS SELECT * FROM ${s}.rollups`);
  const baseW = (
    await o.pool.query(`SELECT partition, next_offset FROM ${s}.batch_watermarks ORDER BY partition`)
  ).rows.map((r) => Number(r.next_offset));

  const restore = async () => {
    await o.pool.query(`DELETE FROM ${s}.raw_events WHERE id NOT LIKE 'b%' OR substr(id, 2)::bigint >= $1`, [o.base]);
    await o.pool.query(`TRUNCATE ${s}.rollups`);
    await o.pool.query(`INSERT INTO ${s}.rollups SELECT * FROM ${s}.rollups_base`);
    for (let p = 0; p < o.partitions; p++) {
      await o.pool.query(`UPDATE ${s}.batch_watermarks SET next_offset = $2 WHERE partition = $1`, [p, baseW[p]]);
      await o.pool.query(`UPDATE ${s}.loader_offsets SET next_offset = $2 WHERE partition = $1`, [
        p,
        Math.ceil((o.base - p) / o.partitions),
      ]);
    }
  };
  for (let run = 0; run < o.runs; run++) {
    for (const share of o.shares) {
      // Whole slices per partition, so "new data" is exactly what the refresher folds.
      const fresh = Math.max(
        o.partitions * o.slice,
        Math.round((o.base * share) / 100 / (o.partitions * o.slice)) * o.partitions * o.slice,
      );
      for (const variant of run % 2 === 0 ? ['incremental', 'full'] : ['full', 'incremental']) {
        await restore();
        await seedRaw(o.pool, o.schema, { first: o.base, count: fresh, partitions: o.partitions, from, to });
        if (variant === 'full') {
          await o.pool.query(`TRUNCATE ${s}.rollups`);
          await o.pool.query(`UPDATE ${s}.batch_watermarks SET next_offset = 0`);
        }
        const r = await foldAll();
        o.figures.add(
          'batch refresh',
          `${share} % new data`,
          variant === 'full' ? 'full rebuild' : 'incremental',
          'ms',
          r.ms,
        );
      }
    }
    o.log(`refresh: run ${run + 1}/${o.runs} done`);
  }
}
