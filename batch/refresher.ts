import type pg from 'pg';
import type { CompiledMetric } from '../metrics/define-metric.ts';
import { compileFoldAllSql } from '../metrics/compile-sql.ts';
import { ident } from '../lib/ident.ts';
import { GRAIN_MS, type Grain } from '../metrics/grain.ts';
import { createLoop } from '../lib/loop.ts';
import { inTransaction } from '../lib/pg-tx.ts';

export interface RefresherOptions {
  pool: pg.Pool;
  schema: string;
  metrics: readonly CompiledMetric[];
  partitions: number;
  /** Slice size in log offsets: only complete slices are folded. */
  slice: number;
  /** Max slices folded per partition per transaction (bounds transaction size). Default 20. */
  maxSlicesPerTxn?: number;
  /** Pause between refresh cycles, ms. Default 2000. */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

const GRAINS = Object.keys(GRAIN_MS) as Grain[];

/**
 * The batch layer (ARCHITECTURE.md, step 5): folds the complete slices [W, W') of each partition's
 * raw events into minute/hour/day rollups with the SQL compiled from the metric definitions, and
 * advances W in the same transaction. Cost grows with the new rows, never with history; late
 * events simply merge into their old bucket. It never reads the speed layer.
 */
export function createRefresher(opts: RefresherOptions) {
  const s = ident(opts.schema);
  const maxSlices = opts.maxSlicesPerTxn ?? 20;
  const grains = GRAINS.map((g) => ({ name: g, ms: GRAIN_MS[g] }));
  // Every metric and grain in one statement: the new raw rows are read once per refresh step.
  const fold = compileFoldAllSql(opts.metrics, opts.schema, grains);
  const stats = { cycles: 0, folds: 0, offsetsFolded: 0 };
  // Keep folding while there is a backlog; then rest for the interval.
  const loop = createLoop({
    tick: async () => (await refreshOnce()) > 0,
    intervalMs: opts.intervalMs ?? 2000,
    onError: (err) => opts.onError?.(err),
  });

  /** Fold what is complete in partition p; returns the number of offsets folded. */
  async function refreshPartition(p: number): Promise<number> {
    const folded = await inTransaction(opts.pool, async (client) => {
      // The row lock serialises refreshers of one partition; the loser waits, then sees the new W.
      const w = await client.query(`SELECT next_offset FROM ${s}.batch_watermarks WHERE partition = $1 FOR UPDATE`, [
        p,
      ]);
      const l = await client.query(`SELECT next_offset FROM ${s}.loader_offsets WHERE partition = $1`, [p]);
      const from = Number(w.rows[0].next_offset);
      const complete = Math.floor(Number(l.rows[0].next_offset) / opts.slice) * opts.slice;
      const to = Math.min(complete, from + maxSlices * opts.slice);
      if (to <= from) return 0;
      await client.query(fold.sql, fold.params(p, from, to));
      await client.query(
        `UPDATE ${s}.batch_watermarks SET next_offset = $2, refreshed_at = $4,
           max_event_time = GREATEST(max_event_time,
             (SELECT max(event_time) FROM ${s}.raw_events WHERE partition = $1 AND log_offset >= $3 AND log_offset < $2))
         WHERE partition = $1`,
        [p, to, from, Date.now()],
      );
      return to - from;
    });
    if (folded > 0) {
      stats.folds++;
      stats.offsetsFolded += folded;
    }
    return folded;
  }

  /** One pass over every partition; returns offsets folded. */
  async function refreshOnce(): Promise<number> {
    let total = 0;
    for (let p = 0; p < opts.partitions; p++) total += await refreshPartition(p);
    stats.cycles++;
    return total;
  }

  return {
    stats,
    refreshOnce,
    kick: () => loop.kick(),
    start: () => loop.start(),
    stop: () => loop.stop(),
  };
}

export type Refresher = ReturnType<typeof createRefresher>;
