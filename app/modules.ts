import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import type { Config } from './config.ts';
import type { Ctx } from './ctx.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrate } from '../store/migrate.ts';
import { openTopicFromSpec, type TopicSpec } from '../log/open-topic.ts';
import { createRedisStore } from '../speed/redis-store.ts';
import { createMemoryStore } from '../speed/memory-store.ts';
import { createLoader } from '../loader/loader.ts';
import { createSpeedApplier } from '../speed/applier.ts';
import { createPartitionLeases } from '../speed/partition-leases.ts';
import { createRefresher } from '../batch/refresher.ts';
import { createServing } from '../serving/create-serving.ts';
import { allMetrics } from '../metrics/index.ts';
import { connectorKinds } from '../ingest/registry.ts';
import { collectStatus } from './status.ts';
import { deploymentNames } from './deployment-names.ts';
import {
  checkConsumerGroups,
  claimRedisPrefix,
  kafkaClientId,
  readDeploymentIdentity,
  type DeploymentIdentity,
} from './deployment-claims.ts';
import { runtimeInfo } from './client.ts';
import { replayDeadLetters } from '../ingest/replay.ts';
import { skipPosition } from '../ingest/skip-position.ts';
import { MillraceError } from '../lib/errors.ts';
import { connectorSpecs, factorySettings } from './sources.ts';
import { prepareFactorySources, runBackfill } from '../simulator/index.ts';
import { startSubgraphs, startGatewayModule, startSimulator } from './serve-modules.ts';
import { SUBGRAPH_NAMES } from '../subgraphs/registry.ts';

export type { Ctx, Service } from './ctx.ts';

type ModuleInit = (ctx: Ctx) => Promise<void>;

/**
 * Every module: its dependencies and its init (Mimir's modules.go). A target is a module that
 * only pulls in dependencies, so the all-in-one process and a split deployment run the same code.
 */
const modules: Record<string, { deps: string[] | ((c: Config) => string[]); init: ModuleInit }> = {
  store: { deps: [], init: initStore },
  log: { deps: ['store'], init: initLog },
  speedStore: { deps: ['store'], init: initSpeedStore },
  // The factory's sources that must exist before the connectors start (no-op with the simulator off).
  factorySources: { deps: ['store'], init: initFactorySources },
  ingest: { deps: ['log', 'factorySources'], init: initIngest },
  speed: { deps: ['store', 'speedStore'], init: initSpeed },
  loader: { deps: ['log'], init: initLoader },
  batch: { deps: ['store'], init: initBatch },
  serving: { deps: ['store', 'speedStore'], init: initServing },
  ...Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [
      `subgraph:${name}`,
      { deps: ['serving'], init: (ctx: Ctx) => startSubgraphs(ctx, [name]) },
    ]),
  ),
  subgraphs: { deps: ['serving'], init: (ctx) => startSubgraphs(ctx, SUBGRAPH_NAMES) },
  // The response cache reads the data version where serving reads the data (Postgres and the speed store).
  gateway: { deps: (c) => (c.MILLRACE_RESPONSE_CACHE === 'on' ? ['serving'] : []), init: startGatewayModule },
  simulator: { deps: ['log', 'factorySources'], init: startSimulator },
  // Targets: nothing of their own.
  all: {
    deps: ['ingest', 'speed', 'loader', 'batch', 'subgraphs', 'gateway', 'simulator'],
    init: async () => undefined,
  },
};

export const TARGETS = [
  'all',
  'ingest',
  'loader',
  'speed',
  'batch',
  ...SUBGRAPH_NAMES.map((n) => `subgraph:${n}`),
  'gateway',
  'simulator',
];

/** Start `target` and its dependencies in order; returns a stop() that stops them in reverse. */
export async function startTarget(
  config: Config,
  target: string,
  log: (l: string) => void,
): Promise<Ctx & { stop(): Promise<void> }> {
  if (!modules[target]) throw new Error(`unknown --target ${JSON.stringify(target)}; one of: ${TARGETS.join(', ')}`);
  const embedded = !config.DATABASE_URL;
  if (embedded && target !== 'all') {
    throw new Error(
      `--target ${target} runs one role of a split deployment: set DATABASE_URL, REDIS_URL and KAFKA_BROKERS (embedded mode is all-in-one)`,
    );
  }
  const order: string[] = [];
  const visit = (m: string) => {
    if (order.includes(m)) return;
    const deps = modules[m].deps;
    for (const d of typeof deps === 'function' ? deps(config) : deps) visit(d);
    order.push(m);
  };
  visit(target);
  // Without REDIS_URL the speed store is a memory store in this process only: a split speed role
  // would apply into it, a split subgraph would read an empty one (answers silently missing
  // everything after the batch watermark), a gateway's response cache would key on offsets that
  // never move.
  if (!embedded && target !== 'all' && order.includes('speedStore') && !config.REDIS_URL) {
    throw new Error(
      `--target ${target} reads or writes the speed layer, which other processes share through Redis: set REDIS_URL`,
    );
  }
  const ctx: Ctx = { config, log, services: [], ready: new Map() };
  if (config.MILLRACE_OTEL_ENDPOINT) {
    // Loaded only when configured: a process without tracing never loads the OpenTelemetry SDK.
    const { setupTracing, shutdownTracing } = await import('../lib/tracing-setup.ts');
    setupTracing({
      serviceName: `millrace-${target.replace(':', '-')}`,
      endpoint: config.MILLRACE_OTEL_ENDPOINT,
      sampleRate: config.MILLRACE_OTEL_SAMPLE_RATE,
    });
    ctx.services.push({ name: 'tracing', stop: shutdownTracing });
    const where = new URL(config.MILLRACE_OTEL_ENDPOINT);
    log(
      `tracing: OpenTelemetry spans to ${where.origin}${where.pathname} (sample rate ${config.MILLRACE_OTEL_SAMPLE_RATE})`,
    );
  }
  // The gateway needs the subgraphs' URLs: start it last.
  order.sort((a, b) => Number(a === 'gateway') - Number(b === 'gateway'));
  const stop = async () => {
    for (const s of [...ctx.services].reverse()) {
      await s.stop().catch((err) => log(`stopping ${s.name}: ${(err as Error).message}`));
    }
  };
  try {
    for (const m of order) {
      ctx.ready.set(m, false);
      await modules[m].init(ctx);
      ctx.ready.set(m, true);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return Object.assign(ctx, { stop });
}

async function initStore(ctx: Ctx) {
  const c = ctx.config;
  let url = c.DATABASE_URL;
  if (!url) {
    const pgDir = path.join(path.resolve(c.MILLRACE_DATA_DIR), 'pg');
    const epg = await startEmbeddedPostgres({ dir: pgDir, port: c.EMBEDDED_PG_PORT, log: ctx.log });
    url = epg.url;
    ctx.services.push({ name: 'embedded-postgres', stop: epg.stop });
    // CLI commands (status, verify) run in other processes: tell them where things are.
    await mkdir(path.resolve(c.MILLRACE_DATA_DIR), { recursive: true });
    await writeFile(
      path.join(path.resolve(c.MILLRACE_DATA_DIR), 'runtime.json'),
      JSON.stringify({ databaseUrl: url, port: c.PORT, pid: process.pid }, null, 2),
      { mode: 0o600 },
    );
  }
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', (err) => ctx.log(`postgres pool: ${err.message}`));
  // A session dropped while a client is checked out (between two statements of a transaction: a
  // terminated backend, a server restart) emits 'error' on that client, which pg-pool leaves
  // unhandled, so the process died (found by the chaos run). The next statement fails, the caller
  // retries, and the broken client is not queryable any more, so the pool drops it on release.
  pool.on('connect', (client) => client.on('error', (err) => ctx.log(`postgres client: ${err.message}`)));
  await migrate(pool, c.MILLRACE_SCHEMA, c.MILLRACE_PARTITIONS);
  ctx.pool = pool;
  ctx.identity = await readDeploymentIdentity(pool, c.MILLRACE_SCHEMA, c.MILLRACE_PREFIX);
  ctx.databaseUrl = url;
  ctx.services.push({ name: 'postgres-pool', stop: () => pool.end() });
}

/** Where the deployment's topics live: Kafka when KAFKA_BROKERS is set, else table topics in MILLRACE_SCHEMA. */
function topicSpec(c: Config, identity: DeploymentIdentity): TopicSpec {
  const brokers = c.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return brokers
    ? {
        kind: 'kafka',
        brokers,
        clientId: kafkaClientId(c.MILLRACE_PREFIX, identity),
        sessionTimeoutMs: c.MILLRACE_KAFKA_SESSION_MS,
      }
    : { kind: 'postgres', schema: c.MILLRACE_SCHEMA };
}

async function initLog(ctx: Ctx) {
  const c = ctx.config;
  const spec = topicSpec(c, ctx.identity!);
  const names = deploymentNames(c);
  if (spec.kind === 'kafka') {
    // Consumer groups are named from the prefix; one with another deployment's live members means
    // two deployments share a prefix on one Kafka.
    const groups = [
      names.loaderGroup,
      ...connectorSpecs(c, ctx.databaseUrl!)
        .filter((k) => k.kind === 'kafka')
        .map((k) => names.connectorGroup(k.name)),
    ];
    await checkConsumerGroups({ brokers: spec.brokers, groups, clientId: spec.clientId! });
  }
  // Table topics report through the deployment's log; Kafka topics keep their own (console) default.
  const open = openTopicFromSpec(spec, ctx.pool!, spec.kind === 'postgres' ? ctx.log : undefined);
  const log = open(names.logTopic, c.MILLRACE_PARTITIONS);
  await log.ensure();
  ctx.topics = { log, open };
  ctx.services.push({ name: 'log', stop: () => log.close() });
}

async function initSpeedStore(ctx: Ctx) {
  const c = ctx.config;
  const names = deploymentNames(c);
  if (c.REDIS_URL) await claimRedisPrefix({ url: c.REDIS_URL, key: names.redisClaimKey, identity: ctx.identity! });
  const store = c.REDIS_URL
    ? createRedisStore({ url: c.REDIS_URL, prefix: names.redisPrefix, slice: c.MILLRACE_SLICE })
    : createMemoryStore();
  ctx.store = store;
  ctx.services.push({ name: 'speed-store', stop: () => store.close() });
}

/**
 * With the simulator on, it creates its sources that must exist before the connectors start (the
 * orders table: the CDC connector has no initial snapshot, so its slot must exist before the first
 * order is written). A plant's own tables are the plant's: the product never creates them.
 */
async function initFactorySources(ctx: Ctx) {
  if (ctx.config.MILLRACE_SIMULATOR === 'off') return;
  await prepareFactorySources(factorySettings(ctx.config, ctx.databaseUrl!), { pool: ctx.pool! });
}

async function initIngest(ctx: Ctx) {
  const c = ctx.config;
  ctx.connectors = [];
  for (const spec of connectorSpecs(c, ctx.databaseUrl!)) {
    const def = connectorKinds[spec.kind];
    if (!def) throw new Error(`connector ${spec.name}: unknown kind ${spec.kind}`);
    const connector = def.create(def.config.parse(spec.config), {
      name: spec.name,
      pool: ctx.pool!,
      schema: c.MILLRACE_SCHEMA,
      log: ctx.topics!.log,
      openTopic: ctx.topics!.open,
      onError: (err) => ctx.log(`connector ${spec.name}: ${(err as Error).message}`),
      prefix: c.MILLRACE_PREFIX,
      stallAfterMs: c.MILLRACE_STALL_MS,
    });
    // One connector's failure to start (a source down) must not stop the others.
    await connector.start().catch((err) => ctx.log(`connector ${spec.name} did not start: ${(err as Error).message}`));
    ctx.connectors.push(connector);
    ctx.services.push({ name: `connector:${spec.name}`, stop: () => connector.stop() });
  }
}

/** What the admin CLI commands need: the database and the log of a running deployment. */
export async function openAdmin(c: Config) {
  const databaseUrl = c.DATABASE_URL ?? (await runtimeInfo(c)).databaseUrl;
  const ctx: Ctx = {
    config: { ...c, DATABASE_URL: databaseUrl },
    log: () => undefined,
    services: [],
    ready: new Map(),
  };
  await initStore(ctx);
  await initLog(ctx);
  const s = c.MILLRACE_SCHEMA;
  return {
    listDeadLetters: async (connector: string | null, limit: number) =>
      (
        await ctx.pool!.query(
          `SELECT id, connector, source, position, reason, raw, created_at, replayed_at FROM ${s}.dead_letters
          WHERE ($1::text IS NULL OR connector = $1) ORDER BY id DESC LIMIT $2`,
          [connector, limit],
        )
      ).rows,
    replay: async (connector: string) => {
      const specs = connectorSpecs(c, databaseUrl);
      const spec = specs.find((x) => x.name === connector);
      if (!spec) throw new Error(`no connector named ${connector}; known: ${specs.map((x) => x.name).join(', ')}`);
      return replayDeadLetters({
        pool: ctx.pool!,
        schema: s,
        log: ctx.topics!.log,
        connector,
        definition: connectorKinds[spec.kind],
        config: spec.config,
      });
    },
    /** Move a connector past a position it cannot read (kinds with `skip`); the range becomes a dead letter. */
    skip: async (connector: string, to: string, note: string) => {
      const specs = connectorSpecs(c, databaseUrl);
      const spec = specs.find((x) => x.name === connector);
      if (!spec) throw new Error(`no connector named ${connector}; known: ${specs.map((x) => x.name).join(', ')}`);
      if (spec.kind !== 'kafka') {
        const def = connectorKinds[spec.kind];
        if (!def?.skip)
          throw new MillraceError(
            'SKIP_UNSUPPORTED',
            `connector ${connector} is a ${spec.kind} connector: it keeps no position one record can stop it on (skip moves kafka, csv-tail, sql-polling and postgres-cdc connectors)`,
          );
        return def.skip(spec.config, { pool: ctx.pool!, schema: s, connector }, to, note);
      }
      const topic = (spec.config as { topic: string }).topic;
      const m = /^(?:(\d+):)?(\d+)$/.exec(to);
      const partitions = (spec.config as { partitions?: number }).partitions ?? 1;
      if (!m || (m[1] === undefined && partitions > 1))
        throw new Error(
          `--to ${JSON.stringify(to)}: expected PARTITION:OFFSET (e.g. 0:1234)${partitions > 1 ? '' : ' or OFFSET'}`,
        );
      const partition = Number(m[1] ?? 0);
      if (partition >= partitions) throw new Error(`--to ${to}: topic ${topic} has partitions 0..${partitions - 1}`);
      const r = await skipPosition({
        pool: ctx.pool!,
        schema: s,
        connector,
        source: `kafka:${topic}`,
        positionPrefix: topic,
        partition,
        to: Number(m[2]),
        note,
      });
      return { position: r.position, skipped: `offsets ${r.from}..${r.to - 1}`, next: `${partition}:${r.to}` };
    },
    close: async () => {
      for (const svc of [...ctx.services].reverse()) await svc.stop().catch(() => undefined);
    },
  };
}

async function initSpeed(ctx: Ctx) {
  const c = ctx.config;
  const applier = createSpeedApplier({
    pool: ctx.pool!,
    schema: c.MILLRACE_SCHEMA,
    store: ctx.store!,
    metrics: allMetrics,
    partitions: c.MILLRACE_PARTITIONS,
    slice: c.MILLRACE_SLICE,
    // Several speed appliers (`--target speed` on more than one machine) split the partitions.
    leases: createPartitionLeases({
      connectionString: ctx.databaseUrl!,
      schema: c.MILLRACE_SCHEMA,
      partitions: c.MILLRACE_PARTITIONS,
      applicationName: `${process.env.PGAPPNAME ?? 'millrace'}:speed-leases`,
    }),
    onError: (err) => ctx.log(`speed applier: ${(err as Error).message}`),
  });
  // Wake-ups across processes: the loader NOTIFYs on every commit.
  const listener = new pg.Client({ connectionString: ctx.databaseUrl });
  await listener.connect();
  listener.on('notification', () => applier.kick());
  listener.on('error', (err) => ctx.log(`speed listener: ${err.message}`));
  await listener.query('LISTEN millrace_loaded');
  applier.start();
  ctx.applierKick = applier.kick;
  ctx.services.push({
    name: 'speed',
    stop: async () => {
      await applier.stop();
      await listener.end().catch(() => undefined);
    },
  });
}

async function initLoader(ctx: Ctx) {
  const loader = createLoader({
    pool: ctx.pool!,
    schema: ctx.config.MILLRACE_SCHEMA,
    log: ctx.topics!.log,
    group: deploymentNames(ctx.config).loaderGroup,
    onCommitted: () => ctx.applierKick?.(),
  });
  await loader.start();
  ctx.services.push({ name: 'loader', stop: () => loader.stop() });
}

async function initBatch(ctx: Ctx) {
  const c = ctx.config;
  const refresher = createRefresher({
    pool: ctx.pool!,
    schema: c.MILLRACE_SCHEMA,
    metrics: allMetrics,
    partitions: c.MILLRACE_PARTITIONS,
    slice: c.MILLRACE_SLICE,
    intervalMs: c.MILLRACE_REFRESH_MS,
    onError: (err) => ctx.log(`batch refresher: ${(err as Error).message}`),
  });
  refresher.start();
  ctx.services.push({ name: 'batch', stop: () => refresher.stop() });
}

async function initServing(ctx: Ctx) {
  const c = ctx.config;
  // Its own pool: queries, however many, cannot take the connections ingest needs. The deadline
  // is a backstop per statement; a read whose request deadline (x-millrace-deadline) is notably
  // sooner also sets its own (serving/read-batch.ts).
  const pool = new pg.Pool({
    connectionString: ctx.databaseUrl,
    max: c.SERVING_POOL_SIZE,
    ...(c.MILLRACE_DEADLINE_MS > 0 && { statement_timeout: c.MILLRACE_DEADLINE_MS }),
  });
  pool.on('error', (err) => ctx.log(`serving pool: ${err.message}`));
  ctx.services.push({ name: 'serving-pool', stop: () => pool.end() });
  ctx.serving = createServing({
    pool,
    schema: c.MILLRACE_SCHEMA,
    store: ctx.store!,
    metrics: allMetrics,
    partitions: c.MILLRACE_PARTITIONS,
    slice: c.MILLRACE_SLICE,
    batchSnapshotMs: c.MILLRACE_BATCH_SNAPSHOT_MS,
    shareReads: c.MILLRACE_SHARE_READS === 'on',
    ...(c.MILLRACE_DEADLINE_MS > 0 && { poolStatementTimeoutMs: c.MILLRACE_DEADLINE_MS }),
  });
}

export { collectStatus };

/**
 * `millrace simulate`: back-fill history into the deployment's sources (topics, files, tables)
 * and its ledger. The tool API is left out: its history lives in the live simulator's memory.
 */
export async function runSimulate(c: Config, args: { days?: string; from?: string; to?: string; seed: string }) {
  const databaseUrl = c.DATABASE_URL ?? (await runtimeInfo(c)).databaseUrl;
  const ctx: Ctx = {
    config: { ...c, DATABASE_URL: databaseUrl },
    log: () => undefined,
    services: [],
    ready: new Map(),
  };
  try {
    await initStore(ctx);
    await initLog(ctx);
    // Machining (the heaviest writer) in a thread of its own, so that it can use a second core; same topics and ledger.
    const machiningThread = c.SIM_MACHINING_THREAD ? { topic: topicSpec(c, ctx.identity!), databaseUrl } : undefined;
    return await runBackfill(
      factorySettings(c, databaseUrl),
      { pool: ctx.pool!, openTopic: ctx.topics!.open, machiningThread },
      args,
    );
  } finally {
    for (const svc of [...ctx.services].reverse()) await svc.stop().catch(() => undefined);
  }
}
