import path from 'node:path';
import type { Config } from './config.ts';
import { deploymentNames } from './deployment-names.ts';
import type { FactorySettings, SqlEngineDialect } from '../simulator/index.ts';
import { connectorKinds } from '../ingest/registry.ts';
import { loadSourcesFile, sourcesFilePath, type ConnectorSpec } from './sources-config.ts';

/** Where the simulator writes file sources and the file connectors read them. */
export const factoryDir = (c: Config) => path.resolve(c.FACTORY_DIR ?? path.join(c.MILLRACE_DATA_DIR, 'factory'));

/** Names that keep one deployment's source tables, slot and topics apart from another's. */
function names(c: Config) {
  const s = c.MILLRACE_SCHEMA;
  return {
    archive: `${s}_machining_archive`,
    workOrders: `${s}_work_orders`,
    sqlSchema: `${s}_src`,
    // Slots are shared by every database of the server: named from the prefix (docs/deployments.md).
    slot: deploymentNames(c).cdcSlot,
    publication: deploymentNames(c).cdcPublication,
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
    seed: c.MILLRACE_SIM_SEED,
    ratePerSec: c.MILLRACE_SIM_RATE,
    speed: c.MILLRACE_SIM_SPEED,
    faultRate: c.SIM_FAULT_RATE,
    ledgerSchema: c.LEDGER_SCHEMA,
    dataDir: factoryDir(c),
    machiningTopic: c.MACHINING_TOPIC,
    machiningPartitions: c.MACHINING_PARTITIONS,
    heatTopic: c.HEAT_TOPIC,
    ordersSchema: c.ORDERS_SCHEMA,
    toolApiPort: c.TOOL_API_PORT,
    sqlEngine: {
      ...sqlEngineChoice(c, databaseUrl),
      archiveTable: n.archive,
      workOrdersTable: n.workOrders,
      schema: n.sqlSchema,
    },
  };
}

/**
 * The variables a sources file may use (`${NAME}`): every setting of the env table, with the ones
 * that depend on others filled in — the database actually used (embedded or DATABASE_URL), the
 * factory directory, the SQL engine's dialect, URL and table prefix, the CDC slot and publication.
 */
export function sourceVars(c: Config, databaseUrl: string): Record<string, string | number | boolean | undefined> {
  const n = names(c);
  const sql = sqlEngineChoice(c, databaseUrl);
  return {
    ...c,
    DATABASE_URL: databaseUrl,
    FACTORY_DIR: factoryDir(c),
    SQL_DIALECT: sql.dialect,
    SQL_URL: sql.url,
    SQL_TABLE_PREFIX: sql.dialect === 'postgres' ? `${n.sqlSchema}.` : '',
    CDC_SLOT: n.slot,
    CDC_PUBLICATION: n.publication,
  };
}

/**
 * Every connector this deployment runs: the sources file (MILLRACE_SOURCES, default the MyCPU
 * example config/mycpu.sources.json) with this deployment's values filled in, each config
 * validated by its kind. A bad file fails naming the file and the path of the bad value.
 */
export function connectorSpecs(c: Config, databaseUrl: string): ConnectorSpec[] {
  return loadSourcesFile(sourcesFilePath(c.MILLRACE_SOURCES), sourceVars(c, databaseUrl), connectorKinds);
}
