import path from 'node:path';
import type { Config } from './config.ts';
import type { FactorySettings, SqlEngineDialect } from '../simulator/index.ts';

// Columns of the MyCPU SQL sources and paths of its reference files (the plant's layout, as the simulator writes it).
const ARCHIVE_COLUMNS = ['event_id', 'kind', 'part_id', 'station', 'machine', 'operator', 'at', 'next_station', 'error_code', 'cycle_time_ms'];
const WORK_ORDER_COLUMNS = ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'];
const TOOL_MASTER_FILE = path.join('reference', 'tool-master.csv');
const FLOOR_MAP_FILE = path.join('reference', 'floor-map.json');

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
function sqlEngineChoice(c: Config, databaseUrl: string): { dialect: SqlEngineDialect; url: string } {
  if (c.MSSQL_URL) return { dialect: 'mssql', url: c.MSSQL_URL };
  if (c.ORACLE_URL) return { dialect: 'oracle', url: c.ORACLE_URL };
  if (c.MARIADB_URL) return { dialect: 'mariadb', url: c.MARIADB_URL };
  return { dialect: 'postgres', url: databaseUrl };
}

/** The factory's settings from the deployment's configuration: it writes where the connectors read. */
export function factorySettings(c: Config, databaseUrl: string): FactorySettings {
  const n = names(c);
  return {
    seed: c.MILLRACE_SIM_SEED, ratePerSec: c.MILLRACE_SIM_RATE, speed: c.MILLRACE_SIM_SPEED, faultRate: c.SIM_FAULT_RATE,
    ledgerSchema: c.LEDGER_SCHEMA, dataDir: factoryDir(c), machiningTopic: c.MACHINING_TOPIC, machiningPartitions: c.MACHINING_PARTITIONS,
    heatTopic: c.HEAT_TOPIC, ordersSchema: c.ORDERS_SCHEMA, toolApiPort: c.TOOL_API_PORT,
    sqlEngine: { ...sqlEngineChoice(c, databaseUrl), archiveTable: n.archive, workOrdersTable: n.workOrders, schema: n.sqlSchema },
  };
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
