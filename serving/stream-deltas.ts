import { compareCursors, CURSOR, type SpeedStore, type StoredDelta } from '../speed/store.ts';
import type { DeltaPayload } from '../speed/applier.ts';
import { MillraceError } from '../lib/errors.ts';
import type { Delta } from './types.ts';
import type { CompiledMetric } from '../metrics/define-metric.ts';
import { createDeltaHub, type DeltaHubOptions, type DeltaHubStats } from './delta-hub.ts';

/** The deltas of one serving instance: every subscription fed by one shared store reader (delta-hub.ts). */
export interface DeltaFeed {
  /**
   * Deltas as an async iterable: strictly after `after` when given (a resuming client misses none
   * the stream still keeps; an expired cursor is an error, never a silent gap), else from now.
   */
  deltas(opts: { after?: string | null; signal?: AbortSignal }): AsyncIterable<Delta>;
  stats(): DeltaHubStats;
}

export function createDeltaFeed(
  store: SpeedStore,
  metrics: readonly CompiledMetric[],
  opts: DeltaHubOptions = {},
): DeltaFeed {
  const dimNames = new Map(metrics.map((m) => [m.name, m.dimensionNames]));
  const parse = (d: StoredDelta): Delta => {
    const p = JSON.parse(d.data) as DeltaPayload;
    return {
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
  };
  const hub = createDeltaHub(store, parse, opts);
  async function* deltas(o: { after?: string | null; signal?: AbortSignal }): AsyncGenerator<Delta> {
    let cursor = o.after ?? null;
    if (cursor !== null) await checkCursor(store, cursor);
    else cursor = await store.lastCursor();
    if (o.signal?.aborted) return;
    yield* hub.subscribe(cursor, o.signal);
  }
  return { deltas, stats: hub.stats };
}

/** One subscription's deltas (a feed of its own; serving shares one feed among all). */
export function streamDeltas(
  store: SpeedStore,
  metrics: readonly CompiledMetric[],
  opts: { after?: string | null; signal?: AbortSignal },
): AsyncIterable<Delta> {
  return createDeltaFeed(store, metrics).deltas(opts);
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
