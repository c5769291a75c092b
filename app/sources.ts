import path from 'node:path';
import type { Config } from './config.ts';
import { deploymentNames } from './deployment-names.ts';
import type { Topic } from '../log/topic.ts';
import type pg from 'pg';
import type { SourceWriter, WriterContext } from '../simulator/sources/source-writer.ts';
import { createHeatWriter, HEAT_SOURCE } from '../simulator/sources/heat-sensors.ts';
import { createEnergyCsvWriter, ENERGY_WRITER } from '../simulator/sources/energy-csv.ts';
import { createReferenceFilesWriter, FLOOR_MAP_FILE, TOOL_MASTER_FILE } from '../simulator/sources/reference-files.ts';
import { CLOCKIN_WRITER, createClockinWriter } from '../simulator/sources/clockin-excel.ts';
import { createOrdersWriter, ORDERS_SOURCE } from '../simulator/sources/orders-postgres.ts';
import { createToolApiWriter, TOOL_API_SOURCE } from '../simulator/sources/tool-api.ts';
import { sourceSeal } from '../simulator/ledger-sources.ts';
import { createSqlEngineWriter, createMariaDbEngine, createMssqlEngine, createOracleEngine, SQL_ENGINE_SOURCE, type SqlEngine, type SqlEngineWriter } from '../simulator/sources/sql-engine.ts';
import { createPostgresEngine } from '../simulator/sources/sql-engine-postgres.ts';
import { ARCHIVE_COLUMNS, WORK_ORDER_COLUMNS } from '../simulator/sources/sql-engine-rows.ts';

/** Where the simulator writes file sources and the file connectors read them. */
export const factoryDir = (c: Config) => path.resolve(c.FACTORY_DIR ?? path.join(c.MILLRACE_DATA_DIR, 'factory'));

/** Names that keep one deployment's source tables, slot and topics apart from another's. */
function names(c: Config) {
  const s = c.MILLRACE_SCHEMA;
  return {
    archive: `${s}_machining_archive`,
    workOrders: `${s}_work_orders`,
    sqlSchema: `${s}_src`,
    slot: deploymentNames(c).cdcSlot,
    publication: deploymentNames(c).cdcPublication,
  };
}

/** Which engine plays "another SQL engine": SQL Server, Oracle, MariaDB, else our own Postgres. */
function sqlEngineChoice(c: Config, databaseUrl: string) {
  const n = names(c);
  const tables = { archive: n.archive, workOrders: n.workOrders };
  if (c.MSSQL_URL) return { dialect: 'mssql' as const, url: c.MSSQL_URL, make: () => createMssqlEngine(c.MSSQL_URL!, { tables }) };
  if (c.ORACLE_URL) return { dialect: 'oracle' as const, url: c.ORACLE_URL, make: () => createOracleEngine(c.ORACLE_URL!, { tables }) };
  if (c.MARIADB_URL) return { dialect: 'mariadb' as const, url: c.MARIADB_URL, make: () => createMariaDbEngine(c.MARIADB_URL!, { tables }) };
  return { dialect: 'postgres' as const, url: databaseUrl, make: () => createPostgresEngine(databaseUrl, { schema: n.sqlSchema, tables }) };
}

/**
 * Every connector this deployment runs (docs/sources.md), built from the env table: the eight
 * MyCPU sources plus the two reference files.
 */
export function connectorSpecs(c: Config, databaseUrl: string): Array<{ name: string; kind: string; config: unknown }> {
  const dir = factoryDir(c);
  const n = names(c);
  const sql = sqlEngineChoice(c, databaseUrl);
  const qualified = (t: string) => (sql.dialect === 'postgres' ? `${n.sqlSchema}.${t}` : t);
  const archiveCfg = { table: qualified(n.archive), keyColumn: 'event_id', mapping: 'machining-archive' };
  const workCfg = { table: qualified(n.workOrders), keyColumn: 'wo_id', mapping: 'work-order' };
  const sqlSpecs =
    sql.dialect === 'mssql'
      ? [
          { name: 'machining-archive', kind: 'sql-server-ct', config: { url: sql.url, columns: [...ARCHIVE_COLUMNS], ...archiveCfg } },
          { name: 'work-orders', kind: 'sql-server-ct', config: { url: sql.url, columns: [...WORK_ORDER_COLUMNS], ...workCfg } },
        ]
      : [
          { name: 'machining-archive', kind: 'sql-polling', config: { dialect: sql.dialect, url: sql.url, columns: [...ARCHIVE_COLUMNS, 'archived_at'], watermarkColumn: 'archived_at', ...archiveCfg } },
          { name: 'work-orders', kind: 'sql-polling', config: { dialect: sql.dialect, url: sql.url, columns: [...WORK_ORDER_COLUMNS], watermarkColumn: 'updated_at', ...workCfg } },
        ];
  return [
    { name: 'machining', kind: 'kafka', config: { topic: c.MACHINING_TOPIC, partitions: c.MACHINING_PARTITIONS, schema: 'machining' } },
    { name: 'heat', kind: 'kafka', config: { topic: c.HEAT_TOPIC, partitions: 1, schema: 'heat' } },
    { name: 'energy', kind: 'csv-tail', config: { directory: path.join(dir, 'energy'), pattern: '^energy-.*\\.csv$', schema: 'energy' } },
    { name: 'clockin', kind: 'excel', config: { directory: path.join(dir, 'clockin') } },
    { name: 'orders', kind: 'postgres-cdc', config: { connectionString: databaseUrl, slot: n.slot, publication: n.publication, tables: [`${c.ORDERS_SCHEMA}.orders`] } },
    ...sqlSpecs,
    { name: 'tools', kind: 'rest-poll', config: { baseUrl: `http://127.0.0.1:${c.TOOL_API_PORT}` } },
    { name: 'tool-master', kind: 'file-snapshot', config: { path: path.join(dir, TOOL_MASTER_FILE), format: 'csv', entity: 'tool', keyField: 'tool_id' } },
    { name: 'floor-map', kind: 'file-snapshot', config: { path: path.join(dir, FLOOR_MAP_FILE), format: 'json', entity: 'station', keyField: 'id', recordsPath: 'stations' } },
  ];
}

type WriterFactory = (ctx: WriterContext) => SourceWriter;

/**
 * The simulator's writers for every source but machining and heat (those two are built by the
 * machining simulator and `createWriters`/`backfill` themselves), as factories of a WriterContext.
 */
export function writerFactories(c: Config, databaseUrl: string): { files: WriterFactory[]; orders: WriterFactory; toolApi: WriterFactory; sqlEngine: (ctx: WriterContext) => SqlEngineWriter } {
  return {
    files: [createReferenceFilesWriter, (ctx) => createEnergyCsvWriter(ctx), (ctx) => createClockinWriter(ctx)],
    orders: (ctx) => createOrdersWriter({ ...ctx, ordersSchema: c.ORDERS_SCHEMA }),
    toolApi: (ctx) => createToolApiWriter({ ...ctx, port: c.TOOL_API_PORT }),
    sqlEngine: (ctx) => createSqlEngineWriter({ ...ctx, engine: sqlEngineChoice(c, databaseUrl).make() as SqlEngine }),
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
  c: Config,
  ctx: {
    pool: pg.Pool; databaseUrl: string; openTopic: (name: string, partitions: number) => Topic; floor: WriterContext['floor']; startTime: number; log: (l: string) => void;
    /** The ledger's seals of the sources with history (`liveSeals`); none: a fresh ledger. */
    seals?: ReadonlyMap<string, number | null>;
  },
): { writers: SourceWriter[]; archive: SqlEngineWriter } {
  const base: WriterContext = {
    seed: c.MILLRACE_SIM_SEED, startTime: ctx.startTime, liveStart: ctx.startTime, dataDir: factoryDir(c), floor: ctx.floor, pool: ctx.pool,
    ledgerSchema: c.LEDGER_SCHEMA, openTopic: ctx.openTopic, faultRate: c.SIM_FAULT_RATE, log: ctx.log,
  };
  const from = (source: string): WriterContext => ({ ...base, startTime: liveStartTime(source, ctx.startTime, ctx.seals?.get(source) ?? null) });
  const f = writerFactories(c, ctx.databaseUrl);
  const archive = f.sqlEngine(from(SQL_ENGINE_SOURCE));
  const writers = [
    createReferenceFilesWriter(base),
    createEnergyCsvWriter(from(ENERGY_WRITER)),
    createClockinWriter(from(CLOCKIN_WRITER)),
    createHeatWriter({ ...from(HEAT_SOURCE), topic: c.HEAT_TOPIC }),
    f.orders(from(ORDERS_SOURCE)),
    f.toolApi(from(TOOL_API_SOURCE)),
    archive,
  ];
  return { writers, archive };
}
