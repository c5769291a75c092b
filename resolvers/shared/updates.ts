import type { Delta, Freshness } from '../../serving/types.ts';
import type { ResolverContext } from '../context.ts';
import { abortableDeltas, type DeltaEvent } from '../abortable-deltas.ts';

/** One message of a domain subscription: the current figures first (SNAPSHOT), then increments. */
export type Update<T> = { kind: 'SNAPSHOT' | 'DELTA'; cursor: string | null; items: T[] } | { error: unknown };

export interface LiveUpdatesOptions<T> {
  /** Resume after this cursor (no snapshot then); null = snapshot, then everything after it. */
  after: string | null;
  /** Metrics the subscription speaks; deltas with none of their items are still sent (they move the cursor). */
  metrics: ReadonlySet<string>;
  /** The current figures, read after the stream position was taken. */
  snapshot(): Promise<{ items: T[]; freshness: Freshness }>;
  /** A delta's items (already restricted to `metrics`) in the subscription's shape, filters applied. */
  itemsOf(delta: Delta): T[];
}

/**
 * Snapshot + deltas without a gap or a double count: the stream position is taken BEFORE the
 * snapshot is read, and a delta the snapshot already holds (its offsets end at or below the
 * snapshot's speed offset for its partition) is skipped. Unsubscribing ends the feed at once.
 */
export function liveUpdates<T>(ctx: ResolverContext, opts: LiveUpdatesOptions<T>): AsyncIterableIterator<Update<T>> {
  let feed: AsyncIterableIterator<DeltaEvent> | null = null;
  let stopped = false;
  let covered: number[] | null = null;
  let started = false;

  const keep = (d: Delta): Delta => ({ ...d, items: d.items.filter((i) => opts.metrics.has(i.metric)) });

  async function next(): Promise<IteratorResult<Update<T>>> {
    if (stopped) return { done: true, value: undefined };
    if (!started) {
      started = true;
      if (opts.after === null) {
        try {
          const position = await ctx.serving.lastCursor();
          feed = abortableDeltas(ctx.serving, { after: position, keep });
          const snap = await opts.snapshot();
          covered = snap.freshness.speedOffsets;
          return { done: false, value: { kind: 'SNAPSHOT', cursor: position, items: snap.items } };
        } catch (error) {
          stopped = true;
          return { done: false, value: { error } };
        }
      }
      feed = abortableDeltas(ctx.serving, { after: opts.after, keep });
    }
    for (;;) {
      const r = await feed!.next();
      if (r.done || stopped) return { done: true, value: undefined };
      if ('error' in r.value) {
        stopped = true;
        return { done: false, value: { error: r.value.error } };
      }
      const d = r.value.delta;
      if (covered && d.toOffset <= (covered[d.partition] ?? -1)) continue;
      return { done: false, value: { kind: 'DELTA', cursor: d.cursor, items: opts.itemsOf(d) } };
    }
  }

  const it: AsyncIterableIterator<Update<T>> = {
    next,
    return: async () => {
      stopped = true;
      await feed?.return?.();
      return { done: true, value: undefined };
    },
    throw: async (err: unknown) => {
      stopped = true;
      await feed?.return?.();
      throw err;
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/** The resolve step of a domain subscription: an error event becomes the message's GraphQL error. */
export function resolveUpdate<T>(u: Update<T>) {
  if ('error' in u) throw u.error;
  return u;
}
