import type { MachiningSimulator } from './machining.ts';
import type { SourceWriter } from './sources/source-writer.ts';
import { createTicker } from './ticker.ts';

/**
 * The factory's clock: one simulated time driving every source writer, live (simulated = `now()`)
 * or fast (a back-fill, as fast as the writers' stores acknowledge). Writers only ever move forward,
 * and each one's output depends on its own seed and clock alone, so any pacing gives the same data.
 */
export interface FactoryOptions {
  /** The source writers (heat sensors, energy CSV, …). */
  writers: SourceWriter[];
  /** The machining simulator, driven through `runFor({ untilTime })` like any writer (never its own live loop). */
  machining?: MachiningSimulator;
  /** Simulated time now, epoch ms (live mode). Default `Date.now`. */
  now?: () => number;
  /** Live mode: pause between ticks, ms. Default 200. */
  tickMs?: number;
  /** Simulated time the clock starts at (`runUntil` steps from here). Default `now()` at the first run. */
  startTime?: number;
  /** Fast mode: bounds of the adaptive step, simulated ms. Defaults 60_000 and 3_600_000. */
  minStepMs?: number;
  maxStepMs?: number;
  /** Live mode: errors of a failed tick (retried with back-off). Default: ignored. */
  onError?: (err: unknown) => void;
}

export interface Factory {
  /** Simulated time every writer has been advanced to (exclusive); null before the first step. */
  readonly clock: number | null;
  /** The writers driven, the machining adapter first when given. */
  readonly writers: readonly SourceWriter[];
  /** Live: every tick, advance all writers to `now()`, until `stop()`. */
  start(): void;
  /**
   * Fast: advance every writer to `t` in steps (1 simulated minute growing to 1 h while steps are
   * quick), each writer at its own pace, each step waiting for that writer's acks. Calls
   * `onProgress(clock)` whenever the slowest writer moved on. After a writer fails, the others stop
   * at their next step and it rejects; a later call resumes every writer from where it got to.
   * `onStep(writer, reached)` follows every step of every writer (each one's own pace).
   */
  runUntil(
    t: number,
    onProgress?: (clock: number) => void,
    onStep?: (writer: SourceWriter, reached: number) => void,
  ): Promise<void>;
  /** Stop the live loop, then close every writer (they flush what they hold and seal). */
  stop(): Promise<void>;
}

/** The machining simulator seen as a source writer. */
export function machiningWriter(sim: MachiningSimulator): SourceWriter {
  return {
    name: 'machining',
    advanceTo: async (t) => void (await sim.runFor({ untilTime: t })),
    stats: () => {
      const s = sim.stats();
      return { written: s.events, faults: { ...s.faults } };
    },
    close: () => sim.stop({ flush: true }),
  };
}

/** Run `fn` on every writer concurrently; wait for all (none left running), then throw the first error. */
async function each(writers: readonly SourceWriter[], fn: (w: SourceWriter) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(writers.map(fn));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export function createFactory(opts: FactoryOptions): Factory {
  const now = opts.now ?? Date.now;
  const writers = [...(opts.machining ? [machiningWriter(opts.machining)] : []), ...opts.writers];
  const minStep = opts.minStepMs ?? 60_000;
  const maxStep = opts.maxStepMs ?? 3_600_000;
  let clock: number | null = null;
  // Per writer: the time it last reached. After a failed step some writers are ahead of others;
  // none is ever asked to go back, and the factory's clock is the slowest one's.
  const reached = new Map<SourceWriter, number>();
  let busy = false;

  /** Advance every writer to `t` (never backwards); concurrent steps are refused, not interleaved. */
  async function advance(t: number): Promise<void> {
    if (busy) throw new Error('factory: a step is already running');
    busy = true;
    try {
      await each(writers, async (w) => {
        const target = Math.max(reached.get(w) ?? t, t);
        await w.advanceTo(target);
        reached.set(w, target);
      });
    } finally {
      busy = false;
      if (writers.length === 0) clock = Math.max(clock ?? t, t);
      else if (reached.size === writers.length) clock = Math.min(...reached.values());
    }
  }

  const ticker = createTicker({
    intervalMs: opts.tickMs ?? 200,
    onError: opts.onError ?? (() => undefined),
    tick: async () => {
      await advance(now());
      return false;
    },
  });

  return {
    get clock() {
      return clock;
    },
    writers,
    start() {
      ticker.start();
    },
    async runUntil(t, onProgress, onStep) {
      if (ticker.running) throw new Error('factory: runUntil while the live loop runs');
      if (busy) throw new Error('factory: a step is already running');
      const start = clock ?? opts.startTime ?? now();
      clock = start;
      busy = true;
      let failed = false;
      // Each writer steps on its own (no barrier between them): while one waits for its store's
      // acks, another generates. The factory's clock is the slowest writer's.
      const run = async (w: SourceWriter) => {
        let step = minStep;
        let at = reached.get(w) ?? start;
        while (at < t && !failed) {
          const began = performance.now();
          const target = Math.min(t, at + step);
          try {
            await w.advanceTo(target);
          } catch (err) {
            failed = true; // the others stop at their next step
            throw err;
          }
          reached.set(w, (at = target));
          onStep?.(w, at);
          const slowest = Math.min(...writers.map((x) => reached.get(x) ?? start));
          if (slowest > clock!) onProgress?.((clock = slowest));
          // Steps grow (1 simulated minute at first, so the first progress comes at once) up to
          // `maxStep`, and shrink only when one takes seconds: a writer whose step cost is mostly
          // fixed (an fsync, a ledger commit) must not be held at small steps by a slow disk or a
          // busy machine, which would make its cost per simulated hour explode.
          const took = performance.now() - began;
          step = took < 2_000 ? Math.min(maxStep, step * 2) : took > 8_000 ? Math.max(minStep, step / 2) : step;
        }
      };
      try {
        await each(writers, run);
      } finally {
        busy = false;
      }
      if (writers.length === 0 && t > clock) onProgress?.((clock = t));
    },
    async stop() {
      await ticker.stop();
      // Machining first: its final flush feeds the SQL engine writer's archive, which must still be open.
      const [first, ...rest] = writers;
      const closing = first ? await Promise.allSettled([first.close()]) : [];
      const failed = [...closing, ...(await Promise.allSettled(rest.map((w) => w.close())))].find(
        (r): r is PromiseRejectedResult => r.status === 'rejected',
      );
      if (failed) throw failed.reason;
    },
  };
}
