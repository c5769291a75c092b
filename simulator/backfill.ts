import type pg from 'pg';
import type { TopicSpec } from '../log/open-topic.ts';
import type { Topic } from '../log/topic.ts';
import { MillraceError } from '../lib/errors.ts';
import { createFactory } from './factory.ts';
import { loadFloorMap, type FloorMap } from './floor.ts';
import { createLedger } from './ledger.ts';
import { createMachiningSimulator, type MachiningSimulator } from './machining.ts';
import { createMachiningThread } from './machining-thread.ts';
import { createHeatWriter } from './sources/heat-sensors.ts';
import type { SourceWriter, WriterContext } from './sources/source-writer.ts';

/** The notes' scale (seeds/001): about 50 million machining events a year ≈ 1.59 per simulated second. */
export const YEAR_SCALE_MACHINING_PER_SEC = 50_000_000 / (365 * 86_400);

export interface BackfillOptions {
  /** Simulated range [from, to), epoch ms. */
  from: number;
  to: number;
  /** PRNG seed (integer): same seed and range → the same messages and ledger facts. */
  seed: number;
  /** Postgres holding the ledger. */
  pool: pg.Pool;
  /** Ledger schema (created when missing). */
  ledgerSchema: string;
  /** Opens a source topic (Kafka, or a table topic embedded). */
  openTopic: (name: string, partitions: number) => Topic;
  /** Machining source; `false` leaves it out. Defaults: topic `mycpu.machining`, 2 partitions, year-scale rate, 5000 per batch. */
  machining?: false | { topic?: string; partitions?: number; ratePerSec?: number; maxBatch?: number };
  /**
   * Run the machining simulator in a thread of its own (it needs about a core; the other writers
   * most of another), which opens the machining topic from `topic` and its own pool on
   * `databaseUrl`. Same messages and ledger rows as in-process. Default: in-process.
   */
  machiningThread?: { topic: TopicSpec; databaseUrl: string };
  /** Heat sensors; `false` leaves them out. Default topic `mycpu.heat`. */
  heat?: false | { topic?: string };
  /** Further source writers, built with the same context as the heat sensors. Default none. */
  writers?: ReadonlyArray<(ctx: WriterContext) => SourceWriter>;
  /** Fault rate multiplier of the writers (machining keeps its own defaults). Default 1. */
  faultRate?: number;
  /** Floor map. Default `loadFloorMap()`. */
  floor?: FloorMap;
  /** Data directory of file sources. Default `./data/factory`. */
  dataDir?: string;
  /** Called after every step: simulated ms done and total, and the figures so far. */
  progress?: (done: number, total: number, stats: BackfillStats) => void;
  log?: (line: string) => void;
}

export interface BackfillStats {
  /** Unique events/readings/rows written and acknowledged, all sources. */
  events: number;
  bySource: Record<
    string,
    {
      written: number;
      faults: Record<string, number>;
      /** Simulated time this writer has reached, epoch ms (writers go at their own pace); null before its first step. */
      clock: number | null;
      /** Wall ms from the start until it reached the end of the range; null while it has not. The largest is the critical path. */
      doneMs: number | null;
    }
  >;
  wallMs: number;
  /** Generation rate: events per wall second so far. */
  eventsPerSec: number;
}

/**
 * Writes the history [from, to) into the same sources a live run writes, as fast as they
 * acknowledge, with the ledger kept as it goes. Streaming: writers hold O(1) state in the length of
 * the range (bounded late/duplicate queues, per-batch facts), so a year takes the memory of a day.
 * At the end every writer flushes what it held back and seals up to `to`.
 */
export async function backfill(opts: BackfillOptions): Promise<BackfillStats> {
  const { from, to, seed } = opts;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from >= to)
    throw new MillraceError('CONFIG', `back-fill: need integer epoch ms with from < to (got ${from}, ${to})`);
  if (!Number.isInteger(seed)) throw new MillraceError('CONFIG', `back-fill: seed must be an integer (got ${seed})`);
  const log = opts.log ?? (() => undefined);
  const floor = opts.floor ?? loadFloorMap();
  const ledger = createLedger({ pool: opts.pool, schema: opts.ledgerSchema });
  await ledger.ensure();
  const ctx: WriterContext = {
    seed,
    startTime: from,
    dataDir: opts.dataDir ?? 'data/factory',
    floor,
    pool: opts.pool,
    ledgerSchema: opts.ledgerSchema,
    openTopic: opts.openTopic,
    faultRate: opts.faultRate ?? 1,
    log,
  };
  const m = opts.machining === false ? null : (opts.machining ?? {});
  const machiningTopic =
    m && !opts.machiningThread ? opts.openTopic(m.topic ?? 'mycpu.machining', m.partitions ?? 2) : null;
  const writers: SourceWriter[] = [];
  if (opts.heat !== false) writers.push(createHeatWriter({ ...ctx, topic: opts.heat?.topic }));
  for (const make of opts.writers ?? []) writers.push(make(ctx));
  // Built after the writers: a thread started before a writer that fails to build would be left
  // running (the stop below is what ends it).
  let machining: MachiningSimulator | undefined;
  if (m) {
    const common = {
      seed,
      startTime: from,
      floor,
      ratePerSec: m.ratePerSec ?? YEAR_SCALE_MACHINING_PER_SEC,
      maxBatch: m.maxBatch ?? 5_000,
    };
    machining = opts.machiningThread
      ? createMachiningThread({
          ...common,
          topic: opts.machiningThread.topic,
          databaseUrl: opts.machiningThread.databaseUrl,
          ledgerSchema: opts.ledgerSchema,
          topicName: m.topic ?? 'mycpu.machining',
          partitions: m.partitions ?? 2,
          log,
        })
      : createMachiningSimulator({ ...common, topic: machiningTopic!, ledger });
  }
  const factory = createFactory({ writers, machining, startTime: from });

  const began = performance.now();
  const clocks = new Map<SourceWriter, number>();
  const doneMs = new Map<SourceWriter, number>();
  const onStep = (w: SourceWriter, reached: number) => {
    clocks.set(w, reached);
    if (reached >= to && !doneMs.has(w)) doneMs.set(w, performance.now() - began);
  };
  const stats = (): BackfillStats => {
    const bySource = Object.fromEntries(
      factory.writers.map((w) => {
        const { written, faults } = w.stats();
        return [w.name, { written, faults, clock: clocks.get(w) ?? null, doneMs: doneMs.get(w) ?? null }];
      }),
    );
    const events = Object.values(bySource).reduce((n, s) => n + s.written, 0);
    const wallMs = performance.now() - began;
    return { events, bySource, wallMs, eventsPerSec: wallMs > 0 ? (events * 1000) / wallMs : 0 };
  };
  log(
    `back-fill ${new Date(from).toISOString()} → ${new Date(to).toISOString()}, seed ${seed}, sources: ${factory.writers.map((w) => w.name).join(', ')}`,
  );
  let failure: unknown = null;
  try {
    await factory.runUntil(to, (clock) => opts.progress?.(clock - from, to - from, stats()), onStep);
  } catch (err) {
    failure = err;
  }
  // Flush held-back messages and seal, even after a failure (what was acked stays recorded);
  // a failing stop must not hide the error that caused it.
  await factory.stop().catch((err) => {
    if (failure === null) failure = err;
    else log(`back-fill: stopping after a failure: ${(err as Error).message}`);
  });
  await machiningTopic?.close(); // (a machining thread closes its own)
  if (failure !== null) throw failure;
  const final = stats();
  opts.progress?.(to - from, to - from, final);
  return final;
}
