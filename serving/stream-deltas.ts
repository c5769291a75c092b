import type { SpeedStore } from '../speed/store.ts';
import type { DeltaPayload } from '../speed/applier.ts';
import { MillraceError } from '../lib/errors.ts';
import type { Delta } from './types.ts';
import type { CompiledMetric } from '../metrics/define-metric.ts';

/**
 * Deltas as an async iterable: strictly after `after` when given (a resuming client misses none
 * the stream still keeps; an expired cursor is an error, never a silent gap), else from now.
 */
export async function* streamDeltas(
  store: SpeedStore,
  metrics: readonly CompiledMetric[],
  opts: { after?: string | null; signal?: AbortSignal },
): AsyncGenerator<Delta> {
  const dimNames = new Map(metrics.map((m) => [m.name, m.dimensionNames]));
  let cursor = opts.after ?? null;
  if (cursor !== null && (await store.cursorExpired(cursor))) {
    throw new MillraceError('CURSOR_EXPIRED', `cursor ${cursor} is older than the deltas kept; re-query the series and subscribe without a cursor`);
  }
  if (cursor === null) cursor = await store.lastCursor();
  while (!opts.signal?.aborted) {
    const batch = await store.readDeltas(cursor, 200, 1000, opts.signal);
    for (const d of batch) {
      cursor = d.cursor;
      const p = JSON.parse(d.data) as DeltaPayload;
      yield {
        cursor: d.cursor,
        partition: p.p,
        fromOffset: p.from,
        toOffset: p.to,
        appliedAt: p.at,
        maxEventTime: p.maxEventTime,
        items: p.items.map(([metric, bucket, dims, cells]) => ({ metric, bucket, dims: named(dimNames.get(metric) ?? [], dims), cells })),
      };
    }
  }
}

function named(names: readonly string[], values: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}
