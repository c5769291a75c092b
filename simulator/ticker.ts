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

export interface Ticker {
  readonly running: boolean;
  start(): void;
  /** Resolves once no tick is running. */
  stop(): Promise<void>;
}

export function createTicker(opts: TickerOptions): Ticker {
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: () => void = () => undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  async function run(): Promise<void> {
    let backoff = 0;
    while (running) {
      try {
        const behind = await opts.tick();
        backoff = 0;
        if (!behind && running) await sleep(opts.intervalMs);
      } catch (err) {
        opts.onError(err);
        backoff = Math.min(Math.max(backoff * 2, 200), 5_000);
        if (running) await sleep(backoff);
      }
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
    async stop() {
      running = false;
      wake();
      await loop;
      loop = null;
    },
  };
}
