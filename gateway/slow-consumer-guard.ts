import type { WebSocket } from 'ws';

/** Options of the slow-consumer guard. */
export interface SlowConsumerOptions {
  /**
   * Bytes a socket may have unsent (results waiting for it plus `socket.bufferedAmount`) before it
   * is closed with 1008 "slow consumer". Default 1 MiB.
   */
  maxUnsentBytes?: number;
  /**
   * How long a closed slow socket may take to drain its close frame before it is cut, ms (a paused
   * client never reads it). Default 5000.
   */
  closeGraceMs?: number;
  /** Told about each socket closed as slow. */
  onSlowConsumer?: (unsentBytes: number) => void;
}

/** The close code and reason of a slow consumer (1008: policy violation; 44xx belong to graphql-ws). */
export const SLOW_CONSUMER_CODE = 1008;
export const slowConsumerReason = (bytes: number, limit: number) =>
  `slow consumer: ${bytes} bytes unsent (limit ${limit})`;

interface Budget {
  queued: number;
  closed: boolean;
}

/**
 * Per socket, a subscription's results are pulled from upstream as they come and held for the
 * client in a queue whose bytes count against the socket's budget. Why: graphql-ws sends the next
 * result only after the previous one was written, so for a client that stops reading the results
 * used to pile up, unbounded and uncounted, in the upstream client's queue. Here the pile is
 * measured; past `maxUnsentBytes` the socket is closed with a reason, the queue dropped and the
 * upstream subscription ended at once (not when the close handshake completes, which a paused
 * client never does; the socket is cut after `closeGraceMs`).
 *
 * Only a result that must wait behind another is measured (JSON length): one in flight while
 * the previous write completes is the normal case and costs nothing extra.
 */
export function createSlowConsumerGuard(opts: SlowConsumerOptions = {}) {
  const limit = opts.maxUnsentBytes ?? 1 << 20;
  const grace = opts.closeGraceMs ?? 5000;
  const budgets = new WeakMap<WebSocket, Budget>();

  const budgetOf = (socket: WebSocket): Budget => {
    let b = budgets.get(socket);
    if (!b) {
      b = { queued: 0, closed: false };
      budgets.set(socket, b);
    }
    return b;
  };

  const closeSlow = (socket: WebSocket, b: Budget, unsent: number) => {
    if (b.closed) return;
    b.closed = true;
    opts.onSlowConsumer?.(unsent);
    socket.close(SLOW_CONSUMER_CODE, slowConsumerReason(unsent, limit));
    const cut = setTimeout(() => socket.terminate(), grace);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  };

  /** `source` held for `socket` within its budget. */
  function bound<T>(socket: WebSocket, source: AsyncIterable<T>): AsyncIterableIterator<T> {
    const b = budgetOf(socket);
    const upstream = source[Symbol.asyncIterator]();
    const queue: Array<{ value: T; size: number }> = [];
    let waiting: ((r: IteratorResult<T> | Promise<never>) => void) | null = null;
    // The consumer's pending next(), if any, taken out (a function, so TS does not narrow `waiting`).
    const takeWaiting = () => {
      const w = waiting;
      waiting = null;
      return w;
    };
    let failure: { error: unknown } | null = null;
    let ended = false;
    let finished = false;

    const release = () => {
      for (const q of queue) b.queued -= q.size;
      queue.length = 0;
    };
    const stop = () => {
      if (ended) return;
      ended = true;
      release();
      upstream.return?.().catch(() => undefined);
      takeWaiting()?.({ done: true, value: undefined });
    };

    (async () => {
      try {
        while (!ended) {
          const r = await upstream.next();
          if (ended) return;
          if (r.done) break;
          const w = takeWaiting();
          if (w) {
            w({ done: false, value: r.value });
            continue;
          }
          const size = queue.length === 0 ? 0 : Buffer.byteLength(JSON.stringify(r.value));
          queue.push({ value: r.value, size });
          b.queued += size;
          const unsent = b.queued + socket.bufferedAmount;
          if (b.closed || unsent > limit) {
            closeSlow(socket, b, unsent);
            stop();
            return;
          }
        }
      } catch (error) {
        failure = { error };
      }
      finished = true;
      const w = takeWaiting();
      if (w && failure) {
        const { error } = failure;
        failure = null;
        ended = true;
        w(Promise.reject(error));
      } else w?.({ done: true, value: undefined });
    })();

    const it: AsyncIterableIterator<T> = {
      next() {
        const q = queue.shift();
        if (q) {
          b.queued -= q.size;
          return Promise.resolve({ done: false, value: q.value });
        }
        if (failure) {
          const { error } = failure;
          failure = null;
          ended = true;
          return Promise.reject(error);
        }
        if (ended || finished) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => (waiting = resolve));
      },
      return() {
        stop();
        return Promise.resolve({ done: true, value: undefined });
      },
      throw(error: unknown) {
        stop();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** For a writer that sends to the socket itself: may it queue `bytes` more? Else it is closed as slow. */
  function admit(socket: WebSocket, bytes: number): boolean {
    const b = budgetOf(socket);
    if (b.closed || socket.readyState !== socket.OPEN) return false;
    const unsent = b.queued + socket.bufferedAmount + bytes;
    if (unsent <= limit) return true;
    closeSlow(socket, b, unsent);
    return false;
  }

  return { bound, admit, limit };
}
