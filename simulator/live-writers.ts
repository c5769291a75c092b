import type pg from 'pg';
import type { Topic } from '../log/topic.ts';
import type { FloorMap } from './floor.ts';
import type { SourceWriter, WriterContext } from './sources/source-writer.ts';
import { createHeatWriter, HEAT_SOURCE } from './sources/heat-sensors.ts';
import { createEnergyCsvWriter, ENERGY_WRITER } from './sources/energy-csv.ts';
import { createReferenceFilesWriter } from './sources/reference-files.ts';
import { CLOCKIN_WRITER, createClockinWriter } from './sources/clockin-excel.ts';
import { createOrdersWriter, ORDERS_SOURCE } from './sources/orders-postgres.ts';
import { createToolApiWriter, TOOL_API_SOURCE } from './sources/tool-api.ts';
import { sourceSeal } from './ledger-sources.ts';
import {
  createSqlEngineWriter,
  createMariaDbEngine,
  createMssqlEngine,
  createOracleEngine,
  SQL_ENGINE_SOURCE,
  type SqlEngine,
  type SqlEngineWriter,
} from './sources/sql-engine.ts';
import { createPostgresEngine } from './sources/sql-engine-postgres.ts';

/** Which engine plays "another SQL engine" (MYCPU.md rows 3 and 4). */
export type SqlEngineDialect = 'mssql' | 'oracle' | 'mariadb' | 'postgres';

/**
 * Everything the factory needs to know, built by the app from its configuration (the simulator
 * reads no environment of its own).
 */
export interface FactorySettings {
  /** PRNG seed (MILLRACE_SIM_SEED). */
  seed: number;
  /** Machining events per real second (MILLRACE_SIM_RATE). */
  ratePerSec: number;
  /** Simulated seconds per real second (MILLRACE_SIM_SPEED; 1 = live). */
  speed: number;
  /** Fault rates multiplier (SIM_FAULT_RATE; 0 = a clean factory). */
  faultRate: number;
  /** Postgres schema of the ground-truth ledger. */
  ledgerSchema: string;
  /** Where the file sources are written (energy CSV, clock-in workbooks, reference files). */
  dataDir: string;
  machiningTopic: string;
  machiningPartitions: number;
  heatTopic: string;
  /** Postgres schema of the orders table (in the deployment's database). */
  ordersSchema: string;
  /** Port of the tool-storage REST API. */
  toolApiPort: number;
  /** The engine holding the machining archive and the work orders, and their table names. */
  sqlEngine: {
    dialect: SqlEngineDialect;
    url: string;
    archiveTable: string;
    workOrdersTable: string;
    /** PostgreSQL only: the tables' schema. */ schema: string;
  };
}

function makeSqlEngine(e: FactorySettings['sqlEngine']): SqlEngine {
  const tables = { archive: e.archiveTable, workOrders: e.workOrdersTable };
  if (e.dialect === 'mssql') return createMssqlEngine(e.url, { tables });
  if (e.dialect === 'oracle') return createOracleEngine(e.url, { tables });
  if (e.dialect === 'mariadb') return createMariaDbEngine(e.url, { tables });
  return createPostgresEngine(e.url, { schema: e.schema, tables });
}

type WriterFactory = (ctx: WriterContext) => SourceWriter;

/**
 * The simulator's writers for every source but machining and heat (those two are built by the
 * machining simulator and `createWriters`/`backfill` themselves), as factories of a WriterContext.
 */
export function writerFactories(s: FactorySettings): {
  files: WriterFactory[];
  orders: WriterFactory;
  toolApi: WriterFactory;
  sqlEngine: (ctx: WriterContext) => SqlEngineWriter;
} {
  return {
    files: [createReferenceFilesWriter, (ctx) => createEnergyCsvWriter(ctx), (ctx) => createClockinWriter(ctx)],
    orders: (ctx) => createOrdersWriter({ ...ctx, ordersSchema: s.ordersSchema }),
    toolApi: (ctx) => createToolApiWriter({ ...ctx, port: s.toolApiPort }),
    sqlEngine: (ctx) => createSqlEngineWriter({ ...ctx, engine: makeSqlEngine(s.sqlEngine) }),
  };
}

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * Live runs: how much simulated history each source already holds when the run starts, by ledger
 * source name. A real plant's sources are not empty when millrace connects — the heat topic keeps
 * its recent readings, today's energy report has its rows so far, the crib API serves its recent
 * movements, the orders table has the last day's orders and their status changes, the clock-in
 * folder has the latest sheets, the ERP table the last day's work orders — so each of these writers
 * starts that far back and its first live step writes the history (with its faults) at once. Sized
 * so that every source's events and malformed input show up within seconds at the default rates
 * (energy: ≈ 10 garbled lines in 2 h; tools: ≈ 12 malformed movements a day; orders: ≈ 50 changes a
 * day; heat: ≈ 8 garbled readings in 20 min; work orders: 0–3 new an hour, so the hour under way
 * alone can have none — then a live start saw no work order for up to an hour). Machining, and the
 * machining archive it feeds, start at the run's start.
 */
export const LIVE_HISTORY_MS: Readonly<Record<string, number>> = {
  [HEAT_SOURCE]: 20 * MIN,
  [ENERGY_WRITER]: 2 * HOUR,
  [TOOL_API_SOURCE]: 24 * HOUR,
  [ORDERS_SOURCE]: 24 * HOUR,
  [CLOCKIN_WRITER]: 24 * HOUR,
  [SQL_ENGINE_SOURCE]: 24 * HOUR,
};

/**
 * Where a live writer starts: its history before the run's start, but never before the source's
 * seal in the ledger — a restart (or a back-fill before it) has written up to there, and facts of
 * sealed minutes are final. That can be after the start: an earlier run whose simulated clock ran
 * ahead of the wall clock (MILLRACE_SIM_SPEED > 1); the writer then waits until the clock gets there.
 */
export function liveStartTime(source: string, startTime: number, seal: number | null): number {
  return Math.max(startTime - (LIVE_HISTORY_MS[source] ?? 0), seal ?? Number.NEGATIVE_INFINITY);
}

/** The ledger seals of the sources with live history (null: never sealed). */
export async function liveSeals(pool: pg.Pool, ledgerSchema: string): Promise<Map<string, number | null>> {
  const seals = new Map<string, number | null>();
  for (const source of Object.keys(LIVE_HISTORY_MS)) seals.set(source, await sourceSeal(pool, ledgerSchema, source));
  return seals;
}

/**
 * Every live writer but machining; `archive` also receives the machining simulator's acked events.
 * Writers with live history start before `startTime` (see LIVE_HISTORY_MS); every writer gets
 * `liveStart` = `startTime` (run-unique ids; the clock-in export of the shift under way).
 */
export function createWriters(
  s: FactorySettings,
  ctx: {
    pool: pg.Pool;
    openTopic: (name: string, partitions: number) => Topic;
    floor: FloorMap;
    startTime: number;
    log: (l: string) => void;
    /** The ledger's seals of the sources with history (`liveSeals`); none: a fresh ledger. */
    seals?: ReadonlyMap<string, number | null>;
  },
): { writers: SourceWriter[]; archive: SqlEngineWriter } {
  const base: WriterContext = {
    seed: s.seed,
    startTime: ctx.startTime,
    liveStart: ctx.startTime,
    dataDir: s.dataDir,
    floor: ctx.floor,
    pool: ctx.pool,
    ledgerSchema: s.ledgerSchema,
    openTopic: ctx.openTopic,
    faultRate: s.faultRate,
    log: ctx.log,
  };
  const from = (source: string): WriterContext => ({
    ...base,
    startTime: liveStartTime(source, ctx.startTime, ctx.seals?.get(source) ?? null),
  });
  const f = writerFactories(s);
  const archive = f.sqlEngine(from(SQL_ENGINE_SOURCE));
  const writers = [
    createReferenceFilesWriter(base),
    createEnergyCsvWriter(from(ENERGY_WRITER)),
    createClockinWriter(from(CLOCKIN_WRITER)),
    createHeatWriter({ ...from(HEAT_SOURCE), topic: s.heatTopic }),
    f.orders(from(ORDERS_SOURCE)),
    f.toolApi(from(TOOL_API_SOURCE)),
    archive,
  ];
  return { writers, archive };
}
