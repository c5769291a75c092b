import { createWaker } from '../../lib/waker.ts';

export interface PollLoopOptions {
  /** One pass over the source; resolves `true` when more is ready right now (read again at once). */
  tick: () => Promise<boolean>;
  /** Pause between passes when caught up, and after a failed pass, ms. */
  pollMs: number;
  /** A failed pass (publish or checkpoint failed): reported, then retried from the saved state. */
  onError: (err: unknown) => void;
}

export interface PollLoop {
  start(): void;
  /** Resolves once no pass is running. */
  stop(): Promise<void>;
}

/** The loop of the polling connectors (files, SQL): poll, and never let one failed pass stop the connector. */
export function createPollLoop(opts: PollLoopOptions): PollLoop {
  const waker = createWaker(opts.pollMs);
  let running = false;
  let loop: Promise<void> | null = null;

  async function run(): Promise<void> {
    while (running) {
      let more = false;
      try {
        more = await opts.tick();
      } catch (err) {
        opts.onError(err);
      }
      if (!more && running) await waker.wait();
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      waker.wake();
      await loop;
      loop = null;
    },
  };
}
