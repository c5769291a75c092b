import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../../lib/free-port.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { Kafka, logLevel } from 'kafkajs';
import { createRoleProcess, ROLES, type Role, type RoleProcess } from './role-process.ts';
import { SUBGRAPH_NAMES } from '../../subgraphs/registry.ts';
import { prepareFactorySources } from '../../simulator/index.ts';

/** The real services a chaos run uses (`scripts/services-up.sh` prints them). */
export interface ChaosServices {
  databaseUrl: string;
  /** Redis server URL without a database number; the run picks an empty database of its own. */
  redisUrl: string;
  /** Kafka brokers, comma-separated; undefined runs the log and source topics as Postgres table topics. */
  kafkaBrokers?: string;
  mariadbUrl?: string;
}

export interface DeploymentOptions {
  root: string;
  services: ChaosServices;
  /** Where role logs go. */
  outDir: string;
  /** Machining events per real second (MILLRACE_SIM_RATE). */
  rate: number;
  /** Simulated seconds per real second (MILLRACE_SIM_SPEED). */
  speed: number;
  /** MILLRACE_SIM_SEED. */
  simSeed: number;
  /** MILLRACE_SLICE. Default 500. */
  slice?: number;
  /** MILLRACE_PARTITIONS. Default 4. */
  partitions?: number;
  /** Extra environment for every role (e.g. an auth setting). */
  extraEnv?: Record<string, string>;
  /** Last word on one role's environment (ports of a scale-out run's replicas and balancers). Default: none. */
  roleOverrides?: (role: Role) => Record<string, string>;
  onUnplannedExit?: (role: Role, code: number | null, signal: string | null, tail: string) => void;
}

export interface Deployment {
  id: string;
  /** The environment every role and CLI command of this deployment shares. */
  env: Record<string, string>;
  schema: string;
  prefix: string;
  /** Redis database number owned by this run (FLUSHDB there wipes nobody else's data). */
  redisDb: number;
  /** `application_name` prefix of the roles' Postgres sessions (PGAPPNAME), to terminate only ours. */
  appNamePrefix: string;
  gatewayUrl: string;
  /** What GraphQL requests carry (the run's API key). */
  headers: Record<string, string>;
  roles: Map<Role, RoleProcess>;
  /** The environment `role` runs with (a replica started beside the deployment's own takes it). */
  roleEnv(role: Role): Record<string, string>;
  /** Start every role, the simulator last (the CDC slot must exist before the first order). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Drop everything the run created (schemas, slot, publication, MariaDB tables, topics, Redis database). */
  cleanup(): Promise<void>;
}

export { freePort };

/**
 * A Redis database nobody uses (DBSIZE 0), claimed with a key so that a concurrent run skips it.
 * Database 0 is left to everyone else.
 */
async function claimRedisDb(url: string, id: string): Promise<number> {
  for (let db = 15; db >= 1; db--) {
    const r = new Redis(`${url.replace(/\/\d*$/, '')}/${db}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await r.connect();
      if ((await r.dbsize()) === 0 && (await r.set('chaos:owner', id, 'NX')) === 'OK') return db;
    } finally {
      r.disconnect();
    }
  }
  throw new Error('no empty Redis database (1–15) to run the chaos deployment in');
}

export async function createChaosDeployment(o: DeploymentOptions): Promise<Deployment> {
  const id = randomBytes(3).toString('hex');
  const schema = `chaos_${id}`;
  const prefix = `chaos-${id}`;
  const redisBase = o.services.redisUrl.replace(/\/\d*$/, '');
  const redisDb = await claimRedisDb(redisBase, id);
  const port = await freePort();
  const subgraphPorts = new Map<string, number>();
  for (const n of SUBGRAPH_NAMES) subgraphPorts.set(n, await freePort());
  // The gateway wants a credential: one API key with every scope, for the driver and for verify.
  const apiKey = randomBytes(24).toString('base64url');
  const appNamePrefix = `chaos-${id}-`;
  const env: Record<string, string> = {
    DATABASE_URL: o.services.databaseUrl,
    REDIS_URL: `${redisBase}/${redisDb}`,
    ...(o.services.kafkaBrokers ? { KAFKA_BROKERS: o.services.kafkaBrokers } : {}),
    ...(o.services.mariadbUrl ? { MARIADB_URL: o.services.mariadbUrl } : {}),
    PORT: String(port),
    TOOL_API_PORT: String(await freePort()),
    FACTORY_DIR: await mkdtemp(path.join(tmpdir(), `chaos-factory-${id}-`)),
    MILLRACE_SCHEMA: schema,
    MILLRACE_PREFIX: prefix,
    LEDGER_SCHEMA: `chaos_ledger_${id}`,
    ORDERS_SCHEMA: `chaos_mycpu_${id}`,
    MACHINING_TOPIC: `mycpu.machining.${prefix}`,
    HEAT_TOPIC: `mycpu.heat.${prefix}`,
    MILLRACE_SIM_RATE: String(o.rate),
    MILLRACE_SIM_SPEED: String(o.speed),
    MILLRACE_SIM_SEED: String(o.simSeed),
    MILLRACE_SLICE: String(o.slice ?? 500),
    MILLRACE_PARTITIONS: String(o.partitions ?? 4),
    MILLRACE_URL: `http://127.0.0.1:${port}`,
    MILLRACE_API_KEYS: `chaos:${apiKey}:production:read+quality:read+energy:read+workforce:read+ops:read+pii:read`,
    MILLRACE_API_KEY: apiKey,
    ...o.extraEnv,
  };
  const roleEnv = (role: Role): Record<string, string> => {
    const e: Record<string, string> = {
      ...env,
      PGAPPNAME: `${appNamePrefix}${role}`,
      MILLRACE_SIMULATOR: role === 'simulator' ? 'on' : 'off',
    };
    // Fixed ports per subgraph, so that a restarted one is where the gateway (SUBGRAPH_URLS) looks.
    if (role.startsWith('subgraph:')) e.SUBGRAPH_PORT = String(subgraphPorts.get(role.slice('subgraph:'.length)));
    if (role === 'gateway')
      e.SUBGRAPH_URLS = [...subgraphPorts].map(([n, p]) => `${n}=http://127.0.0.1:${p}/graphql`).join(',');
    else e.PORT = '0';
    return { ...e, ...o.roleOverrides?.(role) };
  };
  const roles = new Map<Role, RoleProcess>();
  for (const role of [...ROLES, 'simulator'] as Role[]) {
    roles.set(
      role,
      createRoleProcess({
        role,
        root: o.root,
        env: roleEnv(role),
        logFile: path.join(o.outDir, `${role.replace(':', '-')}.log`),
        onUnplannedExit: o.onUnplannedExit,
      }),
    );
  }

  return {
    id,
    env,
    schema,
    prefix,
    redisDb,
    appNamePrefix,
    gatewayUrl: `http://127.0.0.1:${port}`,
    headers: { 'x-api-key': apiKey },
    roles,
    roleEnv,
    async start() {
      // The first role creates the schema (migrate), the gateway needs the subgraphs' SDL, the
      // simulator comes last; the rest start side by side (a busy machine takes a minute for each).
      // The plant's orders table exists before any role starts, as a plant's would: the CDC slot is
      // made when ingest starts, and a slot made after the factory's first orders misses them.
      const provision = new pg.Pool({ connectionString: o.services.databaseUrl, max: 1 });
      await prepareFactorySources({ ordersSchema: env.ORDERS_SCHEMA } as Parameters<typeof prepareFactorySources>[0], {
        pool: provision,
      }).finally(() => provision.end());
      const waves: Role[][] = [
        ['ingest'],
        ROLES.filter((r) => !['ingest', 'gateway'].includes(r)),
        ['gateway'],
        ['simulator'],
      ];
      for (const wave of waves) await Promise.all(wave.map((role) => roles.get(role)!.start()));
    },
    async stop() {
      // The factory first (it flushes and seals), then the gateway down to the sources.
      for (const role of ['simulator', ...[...ROLES].reverse()] as Role[]) await roles.get(role)!.stop();
    },
    async cleanup() {
      const pool = new pg.Pool({ connectionString: o.services.databaseUrl, max: 1 });
      try {
        const slot = `${schema}_orders`;
        await pool.query(
          `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`,
          [slot],
        );
        await pool.query(`DROP PUBLICATION IF EXISTS ${slot}_pub`);
        for (const s of [schema, env.LEDGER_SCHEMA, env.ORDERS_SCHEMA, `${schema}_src`])
          await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      } finally {
        await pool.end();
      }
      if (o.services.mariadbUrl) {
        const maria = await mysql.createConnection(o.services.mariadbUrl);
        await maria
          .query(`DROP TABLE IF EXISTS ${schema}_machining_archive, ${schema}_work_orders`)
          .finally(() => maria.end());
      }
      if (o.services.kafkaBrokers) {
        const admin = new Kafka({
          clientId: `chaos-cleanup-${id}`,
          brokers: o.services.kafkaBrokers.split(','),
          logLevel: logLevel.NOTHING,
        }).admin();
        await admin.connect();
        try {
          const mine = (await admin.listTopics()).filter((t) => t.includes(prefix));
          if (mine.length) await admin.deleteTopics({ topics: mine });
        } finally {
          await admin.disconnect();
        }
      }
      const r = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
      await r.flushdb().finally(() => r.disconnect());
      await rm(env.FACTORY_DIR, { recursive: true, force: true });
    },
  };
}
