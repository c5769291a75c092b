import { createWaker } from './waker.ts';

/** Options of {@link createLoop}. */
export interface LoopOptions {
  /** One pass; resolves `true` when more is ready right now (the next pass runs at once). */
  tick: () => Promise<boolean>;
  /** Pause between passes when caught up, and after a failed pass, ms; `kick()` ends it early. */
  intervalMs: number;
  /** A failed pass: reported, then retried (the loop never stops on an error). Default: ignored. */
  onError?: (err: unknown) => void;
  /**
   * After failed passes, pause `minMs` doubling up to `maxMs` instead of `intervalMs` (a writer
   * that must outlive a broker or database restart without hammering it). Default: `intervalMs`.
   */
  backoff?: { minMs: number; maxMs: number };
}

export interface Loop {
  readonly running: boolean;
  start(): void;
  /** End the pause under way (new input arrived); remembered once when no pause is under way. */
  kick(): void;
  /** Resolves once no pass is running. */
  stop(): Promise<void>;
}

/**
 * The one start/stop/poll loop of every layer (polling connectors, the speed applier, the batch
 * refresher, the simulator's clock): run `tick` again at once while it reports more, else pause;
 * a failing pass is reported and retried, so one bad pass never stops the component.
 */
export function createLoop(opts: LoopOptions): Loop {
  const waker = createWaker(opts.intervalMs);
  let running = false;
  let loop: Promise<void> | null = null;

  async function run(): Promise<void> {
    let backoff = 0;
    while (running) {
      let more = false;
      let pause = opts.intervalMs;
      try {
        more = await opts.tick();
        backoff = 0;
      } catch (err) {
        opts.onError?.(err);
        if (opts.backoff) pause = backoff = Math.min(Math.max(backoff * 2, opts.backoff.minMs), opts.backoff.maxMs);
      }
      if (!more && running) await waker.wait(pause);
    }
  }

  return {
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    kick: () => waker.wake(),
    async stop() {
      running = false;
      waker.wake();
      await loop;
      loop = null;
    },
  };
}
