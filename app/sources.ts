import path from 'node:path';
import type { Config } from './config.ts';
import type { Topic } from '../log/topic.ts';
import type pg from 'pg';
import type { SourceWriter, WriterContext } from '../simulator/sources/source-writer.ts';
import { createHeatWriter } from '../simulator/sources/heat-sensors.ts';
import { createEnergyCsvWriter } from '../simulator/sources/energy-csv.ts';
import { createReferenceFilesWriter, FLOOR_MAP_FILE, TOOL_MASTER_FILE } from '../simulator/sources/reference-files.ts';
import { createClockinWriter } from '../simulator/sources/clockin-excel.ts';
import { createOrdersWriter } from '../simulator/sources/orders-postgres.ts';
import { createToolApiWriter } from '../simulator/sources/tool-api.ts';
import { createSqlEngineWriter, createMariaDbEngine, createMssqlEngine, createOracleEngine, type SqlEngine, type SqlEngineWriter } from '../simulator/sources/sql-engine.ts';
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
    slot: c.CDC_SLOT ?? `${s}_orders`,
    publication: `${c.CDC_SLOT ?? `${s}_orders`}_pub`,
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

/** Every live writer but machining; `archive` also receives the machining simulator's acked events. */
export function createWriters(
  c: Config,
  ctx: { pool: pg.Pool; databaseUrl: string; openTopic: (name: string, partitions: number) => Topic; floor: WriterContext['floor']; startTime: number; log: (l: string) => void },
): { writers: SourceWriter[]; archive: SqlEngineWriter } {
  const base: WriterContext = {
    seed: c.MILLRACE_SIM_SEED, startTime: ctx.startTime, dataDir: factoryDir(c), floor: ctx.floor, pool: ctx.pool,
    ledgerSchema: c.LEDGER_SCHEMA, openTopic: ctx.openTopic, faultRate: c.SIM_FAULT_RATE, log: ctx.log,
  };
  const f = writerFactories(c, ctx.databaseUrl);
  const archive = f.sqlEngine(base);
  const writers = [...f.files.map((make) => make(base)), createHeatWriter({ ...base, topic: c.HEAT_TOPIC }), f.orders(base), f.toolApi(base), archive];
  return { writers, archive };
}
