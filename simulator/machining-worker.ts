/**
 * The machining thread's entry (started by `createMachiningThread`): sets up its own pool, ledger,
 * topic and simulator, then answers `runFor`/`stop` one at a time. Errors go back as data; the
 * main thread owns the thread's life and terminates it after `stop`.
 */
import { parentPort } from 'node:worker_threads';
import pg from 'pg';
import { MillraceError } from '../lib/errors.ts';
import { tsWorkerData } from '../lib/ts-worker.ts';
import { openTopicFromSpec } from '../log/open-topic.ts';
import type { Topic } from '../log/topic.ts';
import { loadFloorMap } from './floor.ts';
import { createLedger } from './ledger.ts';
import {
  createMachiningSimulator,
  emptyMachiningStats,
  type MachiningSimulator,
  type MachiningStats,
} from './machining.ts';
import type { MachiningReply, MachiningRequest, MachiningWorkerData, WireError } from './machining-thread.ts';

interface Machine {
  sim: MachiningSimulator;
  topic: Topic;
  pool: pg.Pool;
}

const port = parentPort!;
const post = (m: MachiningReply) => port.postMessage(m);
const log = (line: string) => post({ type: 'log', line });

function toWire(err: unknown): WireError {
  const code = (err as { code?: unknown } | null)?.code;
  return {
    message: err instanceof Error ? err.message : String(err),
    code: typeof code === 'string' ? code : undefined,
    retryable: err instanceof MillraceError ? err.retryable : undefined,
  };
}

function setUp(d: MachiningWorkerData): Machine {
  const pool = new pg.Pool({ connectionString: d.databaseUrl, max: 2 });
  pool.on('error', (err) => log(`machining thread: postgres pool: ${err.message}`));
  try {
    const ledger = createLedger({ pool, schema: d.ledgerSchema });
    const topic = openTopicFromSpec(d.topic, pool, log)(d.topicName, d.partitions);
    // Figures after every recorded batch keep the main thread's progress live. Posted on the next
    // turn: by then the simulator has counted the batch.
    let posting = false;
    const postStats = () => {
      if (posting) return;
      posting = true;
      setImmediate(() => {
        posting = false;
        post({ type: 'stats', stats: sim.stats() });
      });
    };
    const sim = createMachiningSimulator({
      topic,
      seed: d.seed,
      startTime: d.startTime,
      ratePerSec: d.ratePerSec,
      maxBatch: d.maxBatch,
      warmupMs: d.warmupMs,
      faults: d.faults,
      floor: d.floor ?? loadFloorMap(),
      ledger: {
        async record(entry) {
          await ledger.record(entry);
          postStats();
        },
      },
    });
    return { sim, topic, pool };
  } catch (err) {
    void pool.end();
    throw err;
  }
}

/** Flush (with `flush`), then close the topic and the pool whatever happened; the first error wins. */
async function stop(m: Machine, flush: boolean | undefined): Promise<MachiningStats> {
  let failure: unknown = null;
  await m.sim.stop({ flush }).catch((err) => (failure = err));
  await m.topic.close().catch((err) => (failure ??= err));
  await m.pool.end().catch((err) => (failure ??= err));
  if (failure !== null) throw failure;
  return m.sim.stats();
}

let machine: Machine | null = null;
let setupError: WireError | null = null;
try {
  machine = setUp(tsWorkerData<MachiningWorkerData>());
  post({ type: 'done', id: 0, stats: machine.sim.stats() });
} catch (err) {
  // Stay up: the main thread learns why from the answer and ends the thread with `stop`.
  setupError = toWire(err);
  post({ type: 'done', id: 0, stats: emptyMachiningStats(), error: setupError });
}

async function handle(req: MachiningRequest): Promise<void> {
  // After a failed set-up nothing ran and nothing is open: a stop has nothing to do.
  if (!machine)
    return post({
      type: 'done',
      id: req.id,
      stats: emptyMachiningStats(),
      error: req.op === 'stop' ? undefined : setupError!,
    });
  try {
    const stats = req.op === 'runFor' ? await machine.sim.runFor(req.args) : await stop(machine, req.args.flush);
    post({ type: 'done', id: req.id, stats });
  } catch (err) {
    post({ type: 'done', id: req.id, stats: machine.sim.stats(), error: toWire(err) });
  }
}

// One call at a time, in order (the main thread does not overlap them; this makes sure).
let queue = Promise.resolve();
port.on('message', (req: MachiningRequest) => {
  queue = queue.then(() => handle(req));
});
