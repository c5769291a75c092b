/**
 * The MyCPU factory's one entry point: the product (app/) starts the simulator, prepares its
 * sources and back-fills history through these functions only (the import rules in
 * .dependency-cruiser.cjs hold it to that). Everything else under simulator/ is the factory's own.
 */
import type pg from 'pg';
import type { Topic } from '../log/topic.ts';
import type { TopicSpec } from '../log/open-topic.ts';
import { loadFloorMap } from './floor.ts';
import { createMachiningSimulator } from './machining.ts';
import { createLedger } from './ledger.ts';
import { createFactory } from './factory.ts';
import { ensureOrdersTable } from './sources/orders-postgres.ts';
import { runBackfillCli, type BackfillArgs } from './backfill-cli.ts';
import { createWriters, liveSeals, writerFactories, type FactorySettings } from './live-writers.ts';

export type { FactorySettings, SqlEngineDialect } from './live-writers.ts';
export type { BackfillArgs } from './backfill-cli.ts';

/** What the running deployment lends the factory: its database (for the ledger and the orders table) and its topics. */
export interface FactoryDeps {
  pool: pg.Pool;
  openTopic: (name: string, partitions: number) => Topic;
  log: (line: string) => void;
}

/**
 * Create the sources that must exist before the connectors start: the orders table, so that the
 * CDC connector's slot exists before the first order is written (it has no initial snapshot; rows
 * written before its slot would never be read). Idempotent.
 */
export async function prepareFactorySources(s: FactorySettings, deps: Pick<FactoryDeps, 'pool'>): Promise<void> {
  await ensureOrdersTable(deps.pool, s.ordersSchema);
}

/** The live factory: every source written by one clock, with its ground-truth ledger. */
export async function startFactory(s: FactorySettings, deps: FactoryDeps): Promise<{ stop(): Promise<void> }> {
  const topic = deps.openTopic(s.machiningTopic, s.machiningPartitions);
  await topic.ensure();
  const ledger = createLedger({ pool: deps.pool, schema: s.ledgerSchema });
  await ledger.ensure();
  // Time can run faster than the wall clock (demos, tests): simulated = start + elapsed × speed.
  const t0 = Date.now();
  const now = () => t0 + (Date.now() - t0) * s.speed;
  const floor = loadFloorMap();
  // Sources with history start before t0, but not before what an earlier run already sealed.
  const seals = await liveSeals(deps.pool, s.ledgerSchema);
  const { writers, archive } = createWriters(s, {
    pool: deps.pool,
    openTopic: deps.openTopic,
    floor,
    startTime: t0,
    seals,
    log: deps.log,
  });
  const sim = createMachiningSimulator({
    topic,
    ledger,
    seed: s.seed,
    ratePerSec: s.ratePerSec / s.speed,
    startTime: t0,
    floor,
    // The SQL machining archive receives a copy of every acknowledged event (the loader dedups them).
    onPublished: (events) => archive.archive(events),
  });
  const factory = createFactory({
    writers,
    machining: sim,
    now,
    startTime: t0,
    onError: (err) => deps.log(`${(err as Error).message} (will retry)`),
  });
  factory.start();
  // A clean stop lets every writer send what it held back (late events, duplicates) and seal.
  return {
    stop: async () => {
      await factory.stop();
      await topic.close();
    },
  };
}

/**
 * `millrace simulate`: back-fill history into the same sources a live run writes (topics, files,
 * tables) and the ledger. The tool API is left out: its history lives in the live simulator's memory.
 * `machiningThread` runs machining (the heaviest writer) in a worker thread of its own, so that it
 * can use a second core; same topics and ledger.
 */
export async function runBackfill(
  s: FactorySettings,
  deps: Omit<FactoryDeps, 'log'> & { machiningThread?: { topic: TopicSpec; databaseUrl: string } },
  args: BackfillArgs,
) {
  const f = writerFactories(s);
  return runBackfillCli(args, {
    pool: deps.pool,
    ledgerSchema: s.ledgerSchema,
    openTopic: deps.openTopic,
    floor: loadFloorMap(),
    faultRate: s.faultRate,
    dataDir: s.dataDir,
    machiningTopic: s.machiningTopic,
    machiningPartitions: s.machiningPartitions,
    heatTopic: s.heatTopic,
    machiningThread: deps.machiningThread,
    writers: [...f.files, f.orders, f.sqlEngine],
  });
}
