import type { Delta, Serving } from '../serving/types.ts';

/** A delta for the subscription, or the error that ended the feed (reported as a GraphQL error). */
export type DeltaEvent = { delta: Delta } | { error: unknown };

/**
 * `serving.deltas()` as an iterator that stops at once when the client unsubscribes.
 *
 * Why not an async generator: `return()` on a generator waits until its pending `next()`
 * settles, i.e. until the next delta arrives — an idle feed would keep the serving read (and a
 * Redis blocking read) alive forever. Here `return()` aborts the signal and ends immediately.
 * A failure of the feed (e.g. CURSOR_EXPIRED) becomes one `{ error }` event, so the subscription
 * reports it with its code instead of tearing down the socket.
 */
export function abortableDeltas(
  serving: Serving,
  opts: { after?: string | null; keep?: (delta: Delta) => Delta | null },
): AsyncIterableIterator<DeltaEvent> {
  const ac = new AbortController();
  const aborted = new Promise<IteratorResult<DeltaEvent>>((resolve) =>
    ac.signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true }),
  );
  let inner: AsyncIterator<Delta> | null = null;
  let failed = false;

  const stop = (): Promise<IteratorResult<DeltaEvent>> => {
    if (!ac.signal.aborted) {
      ac.abort();
      // Not awaited: a generator's return() queues behind its pending next(); the abort ends it.
      inner?.return?.().catch(() => undefined);
    }
    return Promise.resolve({ done: true, value: undefined });
  };

  const pull = async (): Promise<IteratorResult<DeltaEvent>> => {
    while (!ac.signal.aborted && !failed) {
      try {
        inner ??= serving.deltas({ after: opts.after ?? null, signal: ac.signal })[Symbol.asyncIterator]();
        const r = await inner.next();
        if (r.done) return { done: true, value: undefined };
        const kept = opts.keep ? opts.keep(r.value) : r.value;
        if (kept) return { done: false, value: { delta: kept } };
      } catch (error) {
        if (ac.signal.aborted) break;
        // Reported first; the following next() ends the iteration (and aborts the feed).
        failed = true;
        return { done: false, value: { error } };
      }
    }
    return { done: true, value: undefined };
  };

  const it: AsyncIterableIterator<DeltaEvent> = {
    // Whichever comes first: the next delta or the unsubscribe.
    next: () => (ac.signal.aborted || failed ? stop() : Promise.race([pull(), aborted])),
    return: stop,
    throw: async (err: unknown) => {
      await stop();
      throw err;
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
