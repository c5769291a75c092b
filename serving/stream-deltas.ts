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
  if (cursor !== null) await checkCursor(store, cursor);
  else cursor = await store.lastCursor();
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
        items: p.items.map(([metric, bucket, dims, cells]) => ({
          metric,
          bucket,
          dims: named(dimNames.get(metric) ?? [], dims),
          cells,
        })),
      };
    }
  }
}

/** Every cursor either store hands out: `<ms or epoch>-<sequence>`, like a Redis stream id. */
const CURSOR = /^(\d{1,16})-(\d{1,16})$/;

function compareCursors(a: string, b: string): number {
  const [, am, as] = CURSOR.exec(a)!;
  const [, bm, bs] = CURSOR.exec(b)!;
  return Number(am) !== Number(bm) ? Number(am) - Number(bm) : Number(as) - Number(bs);
}

/**
 * A cursor a client sends back must be one this deployment handed out: malformed, empty or ahead
 * of the newest delta is BAD_USER_INPUT (it used to reach Redis as `Invalid stream ID`, or replay
 * everything for `""`, or wait for deltas that would never be the ones it meant); older than what
 * the stream keeps is CURSOR_EXPIRED.
 */
async function checkCursor(store: SpeedStore, cursor: string): Promise<void> {
  const bad = (why: string) => new MillraceError('BAD_USER_INPUT', `cursor ${JSON.stringify(cursor)} ${why}`);
  if (cursor === '')
    throw bad('is empty: omit `after` to start from now, or pass the `cursor` of the last delta received');
  if (!CURSOR.test(cursor))
    throw bad('is not a delta cursor (expected the `cursor` field of a delta, like "1764950400000-0")');
  const last = await store.lastCursor();
  if (last !== '' && CURSOR.test(last) && compareCursors(cursor, last) > 0)
    throw bad(`is ahead of the newest delta (${last}): it was not handed out by this deployment`);
  if (await store.cursorExpired(cursor)) {
    throw new MillraceError(
      'CURSOR_EXPIRED',
      `cursor ${cursor} is older than the deltas kept; re-query the series and subscribe without a cursor`,
    );
  }
  if (last === '') throw bad('was not handed out: no delta has been written yet');
}

function named(names: readonly string[], values: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}
