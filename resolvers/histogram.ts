import type { Histogram } from './generated/production.ts';

/**
 * A histogram from its monoid cells `[count, sum, n(v ≤ b0), n(b0 < v ≤ b1), …, n(v > b_last)]`
 * (metrics/define-metric.ts). Percentiles are the upper bound of the bucket that holds the rank,
 * so they are exact statements ("p95 ≤ 60 s"), never interpolated guesses; the open last bucket
 * has no upper bound, hence null.
 */
export function histogramFromCells(bounds: readonly number[], cells: readonly number[]): Histogram {
  const count = cells[0] ?? 0;
  const sum = cells[1] ?? 0;
  const counts = bounds.map((_, i) => cells[2 + i] ?? 0).concat(cells[2 + bounds.length] ?? 0);
  return {
    bounds: [...bounds],
    counts,
    count,
    sum,
    mean: count > 0 ? sum / count : null,
    p50: percentileBound(bounds, counts, 0.5),
    p95: percentileBound(bounds, counts, 0.95),
    p99: percentileBound(bounds, counts, 0.99),
  };
}

/** Upper bound of the bucket holding the q-quantile's rank (nearest-rank), null when open or empty. */
export function percentileBound(bounds: readonly number[], counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return i < bounds.length ? bounds[i] : null;
  }
  return null;
}
