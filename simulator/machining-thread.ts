import { MillraceError, withContext } from '../lib/errors.ts';
import { createTsWorker } from '../lib/ts-worker.ts';
import type { TopicSpec } from '../log/open-topic.ts';
import type { FaultOptions } from './faults.ts';
import type { FloorMap } from './floor.ts';
import { emptyMachiningStats, type MachiningSimulator, type MachiningStats } from './machining.ts';

/**
 * The machining simulator in a thread of its own (`node:worker_threads`): it needs about a core,
 * and a back-fill's other writers most of another. Everything here is plain data — it is cloned
 * into the thread, which opens its own topic and Postgres pool and runs `createMachiningSimulator`
 * there. Same options and `runFor` steps → the same messages and ledger rows as in-process.
 */
export interface MachiningThreadOptions {
  /** Where the topic lives (the thread opens it with `openTopicFromSpec`). */
  topic: TopicSpec;
  /** Topic name and partitions. */
  topicName: string;
  partitions: number;
  /** Postgres of the ledger (and of table topics); the thread's own pool holds 2 connections. */
  databaseUrl: string;
  /** Ledger schema (created when missing). */
  ledgerSchema: string;
  /** As `MachiningSimulatorOptions`: PRNG seed (integer). */
  seed: number;
  /** Simulated time of the first event, epoch ms. Default: the thread's `Date.now()` at the first `runFor`. */
  startTime?: number;
  /** Events per simulated second. Default 20. */
  ratePerSec?: number;
  /** Most messages per publish. Default 1000. */
  maxBatch?: number;
  /** Unseen warm-up before `startTime`. Default as `createMachiningSimulator`. */
  warmupMs?: number;
  /** Fault rates. Default `DEFAULT_FAULTS`. */
  faults?: FaultOptions;
  /** Floor map. Default: the thread calls `loadFloorMap()`. */
  floor?: FloorMap;
  /** Diagnostics of the thread's topic and pool (stays in this thread). Default `console.warn`. */
  log?: (line: string) => void;
}

export type MachiningWorkerData = Omit<MachiningThreadOptions, 'log'>;

/** An error as it crosses the thread boundary. */
export interface WireError {
  message: string;
  code?: string;
  retryable?: boolean;
}

/** Main thread → machining thread: a call of the simulator's, answered by a `done` of the same id. */
type Call = { op: 'runFor'; args: { events?: number; untilTime?: number } } | { op: 'stop'; args: { flush?: boolean } };
export type MachiningRequest = Call & { id: number };

/** Machining thread → main thread. Request id 0 answers the thread's own set-up. */
export type MachiningReply =
  | { type: 'done'; id: number; stats: MachiningStats; error?: WireError }
  | { type: 'stats'; stats: MachiningStats }
  | { type: 'log'; line: string };

export interface MachiningThread extends MachiningSimulator {
  /** False once the thread has exited. */
  readonly running: boolean;
  /** End the thread now, without a flush: what it held back is lost (the ledger keeps only what was acked). Pending calls reject. */
  terminate(): Promise<void>;
}

/** The thread's error, here: same message and code, with the context that it came from the thread. */
function fromWire(e: WireError): Error {
  const message = `machining thread: ${e.message}`;
  return e.code ? new MillraceError(e.code, message, { retryable: e.retryable }) : new Error(message);
}

export function createMachiningThread(opts: MachiningThreadOptions): MachiningThread {
  const { log = (line: string) => console.warn(line), ...data } = opts;
  // Beside this module: the .ts source under tsx, the .js build in dist/.
  const entry = new URL(`./machining-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  const worker = createTsWorker(entry, data satisfies MachiningWorkerData);
  const pending = new Map<number, { resolve: (s: MachiningStats) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  // The thread sends its figures with every answer and after every recorded batch: `stats()` stays
  // synchronous and live.
  let last = emptyMachiningStats();
  let running = true;
  let gone: Error | null = null; // why no more calls can be made
  let stopping: Promise<void> | null = null;

  const answer = (id: number) => new Promise<MachiningStats>((resolve, reject) => pending.set(id, { resolve, reject }));
  const ready = answer(0);
  ready.catch(() => undefined); // nobody may be waiting yet; `call` rethrows it

  /** The thread is gone (crashed, exited or terminated): every pending call rejects, none hangs. */
  function end(err: Error) {
    gone ??= err;
    for (const p of pending.values()) p.reject(gone);
    pending.clear();
  }
  worker.on('message', (m: MachiningReply) => {
    if (m.type === 'log') return log(m.line);
    last = m.stats;
    if (m.type !== 'done') return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(fromWire(m.error));
    else p?.resolve(m.stats);
  });
  worker.on('error', (err) => end(withContext(err, 'machining thread: crashed')));
  worker.on('messageerror', (err) => end(withContext(err, 'machining thread: unreadable message')));
  worker.on('exit', (code) => {
    running = false;
    end(new MillraceError('INTERNAL', `machining thread: exited (code ${code})`));
  });

  async function call(req: Call): Promise<MachiningStats> {
    if (gone) throw gone;
    const id = nextId++;
    const done = answer(id);
    worker.postMessage({ ...req, id });
    return done;
  }

  async function terminate(): Promise<void> {
    gone ??= new MillraceError('INTERNAL', 'machining thread: terminated');
    await worker.terminate();
  }

  return {
    get running() {
      return running;
    },
    async runFor(args) {
      await ready; // a failed set-up is this call's error
      return call({ op: 'runFor', args });
    },
    start() {
      throw new MillraceError(
        'UNSUPPORTED',
        'machining thread: the live loop is not supported in a thread (drive it with runFor)',
      );
    },
    /**
     * The thread flushes (with `flush`), closes its topic and pool; then it is terminated — also
     * when the flush failed or the thread was already gone. A second call shares the first's outcome.
     */
    stop(args = {}) {
      stopping ??= (async () => {
        try {
          if (gone && args.flush !== false) throw gone; // nothing can be flushed any more
          if (!gone) await call({ op: 'stop', args });
        } finally {
          gone ??= new MillraceError('INTERNAL', 'machining thread: stopped');
          await terminate();
        }
      })();
      return stopping;
    },
    stats: () => last,
    terminate,
  };
}
