import { createLoop, type Loop } from '../lib/loop.ts';

/**
 * The live loop of a source writer: runs `tick` until stopped — again at once while it reports
 * being behind the clock (after an outage, or a back-fill that ended in the past), otherwise after
 * `intervalMs`. A failing tick is reported and retried with back-off (200 ms doubling to 5 s),
 * because a live simulator must outlive a broker or database restart.
 */
export interface TickerOptions {
  /** One step; resolves `true` when there is more due right now. */
  tick: () => Promise<boolean>;
  /** Pause between ticks when caught up, ms. */
  intervalMs: number;
  /** Errors of failed ticks (they are retried). */
  onError: (err: unknown) => void;
}

export type Ticker = Pick<Loop, 'running' | 'start' | 'stop'>;

export function createTicker(opts: TickerOptions): Ticker {
  return createLoop({ ...opts, backoff: { minMs: 200, maxMs: 5_000 } });
}
