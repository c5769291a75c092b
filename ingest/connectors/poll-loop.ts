import { createLoop, type Loop } from '../../lib/loop.ts';

export interface PollLoopOptions {
  /** One pass over the source; resolves `true` when more is ready right now (read again at once). */
  tick: () => Promise<boolean>;
  /** Pause between passes when caught up, and after a failed pass, ms. */
  pollMs: number;
  /** A failed pass (publish or checkpoint failed): reported, then retried from the saved state. */
  onError: (err: unknown) => void;
}

export type PollLoop = Pick<Loop, 'start' | 'stop'>;

/** The loop of the polling connectors (files, SQL): lib/loop.ts with the connectors' option names. */
export function createPollLoop(opts: PollLoopOptions): PollLoop {
  return createLoop({ tick: opts.tick, intervalMs: opts.pollMs, onError: opts.onError });
}
