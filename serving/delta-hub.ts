import { compareCursors, type SpeedStore, type StoredDelta } from '../speed/store.ts';
import { MillraceError } from '../lib/errors.ts';

/** Options of the shared delta reader. */
export interface DeltaHubOptions {
  /** Deltas per store read. Default 200. */
  count?: number;
  /** How long one blocking read waits for a delta before it is issued again, ms. Default 1000. */
  blockMs?: number;
  /**
   * Deltas one subscriber may have waiting (read but not yet taken); past it the subscriber ends
   * with SLOW_CONSUMER instead of growing memory. Default 10 000.
   */
  maxQueued?: number;
}

/** What the hub holds now (tests and metrics). */
export interface DeltaHubStats {
  /** Live subscribers, joined or catching up. */
  subscribers: number;
  /** Subscribers served by the shared reader. */
  joined: number;
  /** 1 while the shared reader runs, else 0 (there is never more than one). */
  readers: number;
  /** Shared readers started since the hub was made. */
  readersStarted: number;
}

export interface DeltaHub<T extends { cursor: string }> {
  /** Deltas strictly after `after` ('' = from the oldest kept), in order, each once, until `signal` aborts. */
  subscribe(after: string, signal?: AbortSignal): AsyncIterableIterator<T>;
  stats(): DeltaHubStats;
}

interface Sub<T> {
  /** The cursor of the last delta handed to this subscriber: everything after it is still owed. */
  after: string;
  queue: T[];
  joined: boolean;
  ended: boolean;
  error: unknown;
  wake: (() => void) | null;
}

/**
 * ONE store reader per serving instance, fanned out to every live subscriber (the stream used to
 * be read once per subscriber: a blocking XREAD and a Redis connection each).
 *
 * Exactness: the shared reader reads strictly after `head` and hands each delta, parsed once, to
 * every joined subscriber, skipping those at or below the subscriber's own cursor. A subscriber
 * joins only when its cursor is at or past `head` (checked and done in one synchronous step, so
 * no delta can slip between): from then on every delta after its cursor reaches it, once. A
 * subscriber behind `head` (resuming from an older cursor) catches up with non-blocking reads of
 * its own, one batch each time its queue runs dry (so a slow consumer never makes the hub read
 * ahead for it), until it reaches `head`. The reader is started by the first subscriber (from
 * that subscriber's cursor) and aborted when the last one leaves.
 */
export function createDeltaHub<T extends { cursor: string }>(
  store: SpeedStore,
  parse: (d: StoredDelta) => T,
  opts: DeltaHubOptions = {},
): DeltaHub<T> {
  const count = opts.count ?? 200;
  const blockMs = opts.blockMs ?? 1000;
  const maxQueued = opts.maxQueued ?? 10_000;
  const subs = new Set<Sub<T>>();
  const joined = new Set<Sub<T>>();
  let head = '';
  let reader: AbortController | null = null;
  let readersStarted = 0;

  const wake = (s: Sub<T>) => {
    const w = s.wake;
    s.wake = null;
    w?.();
  };
  const offer = (s: Sub<T>, d: T) => {
    if (s.ended || s.error || compareCursors(d.cursor, s.after) <= 0) return;
    s.after = d.cursor;
    s.queue.push(d);
    if (s.queue.length > maxQueued) {
      fail(s, new MillraceError('SLOW_CONSUMER', `subscriber fell ${s.queue.length} deltas behind; resubscribe`));
    }
    wake(s);
  };
  const fail = (s: Sub<T>, error: unknown) => {
    s.error = error;
    s.queue.length = 0;
    leave(s, false);
  };
  const leave = (s: Sub<T>, ended: boolean) => {
    s.ended ||= ended;
    subs.delete(s);
    joined.delete(s);
    if (joined.size === 0) reader?.abort();
    wake(s);
  };

  async function run(ac: AbortController): Promise<void> {
    readersStarted++;
    try {
      while (!ac.signal.aborted && joined.size > 0) {
        let batch: StoredDelta[];
        try {
          batch = await store.readDeltas(head, count, blockMs, ac.signal);
        } catch (error) {
          if (!ac.signal.aborted) for (const s of [...joined]) fail(s, error);
          return;
        }
        if (ac.signal.aborted) return;
        for (const d of batch) {
          const parsed = parse(d);
          for (const s of joined) offer(s, parsed);
          head = d.cursor;
        }
      }
    } finally {
      if (reader === ac) reader = null;
    }
  }

  /** Join the shared reader if `s` is at or past its head; else one catch-up read of its own. */
  async function advance(s: Sub<T>): Promise<void> {
    if (!reader || reader.signal.aborted) {
      head = s.after;
      joined.add(s);
      s.joined = true;
      const ac = new AbortController();
      reader = ac;
      void run(ac);
      return;
    }
    if (compareCursors(s.after, head) >= 0) {
      joined.add(s);
      s.joined = true;
      return;
    }
    const batch = await store.readDeltas(s.after, count, 0);
    if (batch.length === 0 && reader && compareCursors(s.after, head) < 0) {
      throw new MillraceError('CURSOR_EXPIRED', `deltas after ${s.after} are no longer kept; resubscribe`);
    }
    for (const d of batch) offer(s, parse(d));
  }

  function subscribe(after: string, signal?: AbortSignal): AsyncIterableIterator<T> {
    const s: Sub<T> = { after, queue: [], joined: false, ended: false, error: null, wake: null };
    subs.add(s);
    const onAbort = () => leave(s, true);
    signal?.addEventListener('abort', onAbort, { once: true });
    const end = (): IteratorResult<T> => {
      signal?.removeEventListener('abort', onAbort);
      leave(s, true);
      return { done: true, value: undefined };
    };
    if (signal?.aborted) end();

    async function next(): Promise<IteratorResult<T>> {
      for (;;) {
        if (s.queue.length > 0) return { done: false, value: s.queue.shift()! };
        if (s.error) {
          const error = s.error;
          s.error = null;
          end();
          throw error;
        }
        if (s.ended) return end();
        if (!s.joined) {
          try {
            await advance(s);
          } catch (error) {
            fail(s, error);
          }
          continue;
        }
        await new Promise<void>((resolve) => (s.wake = resolve));
      }
    }
    const it: AsyncIterableIterator<T> = {
      next,
      return: async () => end(),
      throw: async (err: unknown) => {
        end();
        throw err;
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  return {
    subscribe,
    stats: () => ({ subscribers: subs.size, joined: joined.size, readers: reader ? 1 : 0, readersStarted }),
  };
}
