import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Rng } from '../../simulator/prng.ts';
import type { Deployment } from './chaos-deployment.ts';
import type { Positions, Probes } from './chaos-probes.ts';
import { ROLES, type Role } from './role-process.ts';
import { SUBGRAPH_NAMES } from '../../subgraphs/registry.ts';

const run = promisify(execFile);

export const FAULT_KINDS: readonly string[] = [
  ...ROLES.map((r) => `kill9:${r}`),
  'redis-wipe',
  'kafka-outage',
  'postgres-restart',
  'subgraph-pause',
  'disk-full',
  'drop-connections',
];
/** `kill9:<role>` or one of the other FAULT_KINDS. */
export type FaultKind = string;

export interface FaultOptions {
  /** How long a pause (Kafka broker, subgraph) or a simulated full disk lasts, ms. */
  holdMs: number;
  /** Really restart the Kafka broker (stop it, then scripts/services-up.sh) instead of SIGSTOP/SIGCONT. It affects everyone on this broker. */
  kafkaRestart: boolean;
  /** Really restart the PostgreSQL server (pg_ctlcluster) instead of terminating this deployment's sessions. It affects everyone. */
  pgRestart: boolean;
  root: string;
}

export interface FaultContext {
  deployment: Deployment;
  probes: Probes;
  rng: Rng;
  options: FaultOptions;
  log: (line: string) => void;
}

/** What an injection did: proof it bit, when it was lifted, and what "recovered" means for it. */
export interface Injection {
  /** What shows the fault took effect (a kill's signal, keys wiped, sessions terminated, trigger hits). */
  evidence: string;
  /** Set when the fault itself is over (a paused process resumed, a role restarted); recovery is measured from injection. */
  clearedAt: number;
  /** The deployment works again after this fault. */
  recovered(before: Positions): Promise<boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Which positions must grow for each role to count as working again. */
const PROGRESS: Partial<Record<Role, keyof Positions>> = {
  ingest: 'logEnd',
  loader: 'loader',
  speed: 'speed',
  batch: 'batch',
};

/** Every subgraph answers through the gateway. */
const allAnswer = async (ctx: FaultContext) => {
  for (const name of SUBGRAPH_NAMES) if (!(await ctx.probes.answers(name)).ok) return false;
  return true;
};

/** After `key` grew past its value at `since`, and the gateway answers for every subgraph. */
const progressed = (ctx: FaultContext, keys: Array<keyof Positions>) => async (since: Positions) => {
  const now = await ctx.probes.positions();
  if (!keys.every((k) => now[k] > since[k])) return false;
  return allAnswer(ctx);
};

async function kill9(ctx: FaultContext, role: Role): Promise<Injection> {
  const p = ctx.deployment.roles.get(role)!;
  const { signal } = await p.kill9();
  // Positions right after the death: whatever grows from here is the new incarnation's work.
  const dead = await ctx.probes.positions();
  await p.start();
  const key = PROGRESS[role];
  return {
    evidence: `exited by ${signal}`,
    clearedAt: Date.now(),
    recovered: async () => {
      if (key && !((await ctx.probes.positions())[key] > dead[key])) return false;
      return allAnswer(ctx);
    },
  };
}

/** This run's Redis database only: FLUSHDB there (FLUSHALL would wipe every database on the server). */
async function redisWipe(ctx: FaultContext): Promise<Injection> {
  const r = ctx.probes.redis;
  const keys = await r.dbsize();
  await r.flushdb();
  await r.set('chaos:owner', ctx.deployment.id);
  const before = await ctx.probes.positions();
  return {
    evidence: `FLUSHDB of db ${ctx.deployment.redisDb} removed ${keys} keys`,
    clearedAt: Date.now(),
    // The speed layer rebuilt from raw (its offsets back where they were, and beyond) and serves.
    recovered: async () => {
      const now = await ctx.probes.positions();
      return now.speed > before.speed && (await ctx.probes.answers('production')).ok;
    },
  };
}

const KAFKA_DIR = path.join(process.env.MILLRACE_CACHE ?? path.join(homedir(), '.cache', 'millrace'), 'kafka');

async function procState(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/**
 * The broker goes away: by default SIGSTOP for `holdMs` then SIGCONT (a hung broker: every client
 * times out, nothing is lost on the broker; short, because other deployments share it), or with
 * `kafkaRestart` a real stop and start of the broker.
 */
async function kafkaOutage(ctx: FaultContext): Promise<Injection> {
  if (!ctx.deployment.env.KAFKA_BROKERS) throw new Error('kafka-outage needs KAFKA_BROKERS');
  const pid = Number((await readFile(path.join(KAFKA_DIR, 'kafka.pid'), 'utf8')).trim());
  let evidence: string;
  if (ctx.options.kafkaRestart) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 600; i++) {
      try {
        process.kill(pid, 0);
        await sleep(100);
      } catch {
        break;
      }
    }
    await run('bash', [path.join(ctx.options.root, 'scripts', 'services-up.sh')], { maxBuffer: 1 << 24 });
    evidence = `broker pid ${pid} stopped and restarted`;
  } else {
    process.kill(pid, 'SIGSTOP');
    const state = await procState(pid);
    await sleep(ctx.options.holdMs);
    process.kill(pid, 'SIGCONT');
    evidence = `broker pid ${pid} state ${state} for ${ctx.options.holdMs} ms`;
  }
  const before = await ctx.probes.positions();
  return {
    evidence,
    clearedAt: Date.now(),
    recovered: async () => await progressed(ctx, ['logEnd', 'loader', 'speed'])(before),
  };
}

/** Terminate sessions of this deployment's roles (never the simulator's or the driver's); `share` of them picked at random. */
async function terminateBackends(ctx: FaultContext, share: number): Promise<number> {
  const prefix = ctx.deployment.appNamePrefix;
  const r = await ctx.probes.pool.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1 AND application_name <> $2 AND pid <> pg_backend_pid()`,
    [`${prefix}%`, `${prefix}simulator`],
  );
  const pids = r.rows.map((x) => x.pid as number).filter(() => ctx.rng.next() < share);
  if (pids.length === 0) return 0;
  const t = await ctx.probes.pool.query(
    `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS pid) x WHERE ok`,
    [pids],
  );
  return t.rows[0].n;
}

/**
 * Postgres goes away for this deployment: every session of its roles is terminated at once (what
 * they see of a server restart: the connection drops, the next one works), or with `pgRestart` a
 * real `pg_ctlcluster restart` of the shared server.
 */
async function postgresRestart(ctx: FaultContext): Promise<Injection> {
  let evidence: string;
  if (ctx.options.pgRestart) {
    const ver = (await run('bash', ['-c', 'ls /usr/lib/postgresql | sort -n | tail -1'])).stdout.trim();
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', ver, 'main', 'restart']);
    evidence = `PostgreSQL ${ver} restarted`;
  } else {
    const n = await terminateBackends(ctx, 1);
    if (n === 0) throw new Error('no session of the deployment to terminate');
    evidence = `${n} sessions terminated (every role's)`;
  }
  const before = await ctx.probes.positions();
  return {
    evidence,
    clearedAt: Date.now(),
    recovered: async () => await progressed(ctx, ['logEnd', 'loader', 'speed', 'batch'])(before),
  };
}

/** Half the deployment's Postgres sessions and every Redis client of its database, dropped. */
async function dropConnections(ctx: FaultContext): Promise<Injection> {
  const pgN = await terminateBackends(ctx, 0.5);
  const r = ctx.probes.redis;
  const me = Number(await r.client('ID'));
  const list = String(await r.client('LIST'))
    .split('\n')
    .filter(Boolean);
  const ids = list
    .filter((l) => new RegExp(`\\bdb=${ctx.deployment.redisDb}\\b`).test(l))
    .map((l) => Number(/\bid=(\d+)/.exec(l)?.[1]))
    .filter((id) => id && id !== me);
  let redisN = 0;
  for (const id of ids) redisN += Number(await r.client('KILL', 'ID', String(id)));
  if (pgN + redisN === 0) throw new Error('no connection of the deployment to drop');
  const before = await ctx.probes.positions();
  return {
    evidence: `${pgN} Postgres sessions terminated, ${redisN} Redis clients killed`,
    clearedAt: Date.now(),
    recovered: async () => await progressed(ctx, ['loader', 'speed'])(before),
  };
}

/** A subgraph hangs (SIGSTOP) for `holdMs`: the gateway must keep answering (errors with a code for that subgraph), then recover. */
async function subgraphPause(ctx: FaultContext): Promise<Injection> {
  const name = ctx.rng.pick(SUBGRAPH_NAMES);
  const p = ctx.deployment.roles.get(`subgraph:${name}`)!;
  const pid = p.pid();
  if (!pid) throw new Error(`subgraph ${name} is not running`);
  p.signal('SIGSTOP');
  const state = await procState(pid);
  const t0 = Date.now();
  // While it hangs, the gateway itself stays up: /healthz answers; the paused subgraph's query fails
  // with a GraphQL error (no 5xx crash page, no stack trace), or waits for it.
  const health = await fetch(`${ctx.deployment.gatewayUrl}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    () => 0,
  );
  const during = await ctx.probes.answers(name, Math.max(1000, ctx.options.holdMs - 500));
  await sleep(Math.max(0, ctx.options.holdMs - (Date.now() - t0)));
  p.signal('SIGCONT');
  if (health !== 200) throw new Error(`the gateway's /healthz answered ${health} while subgraph ${name} was paused`);
  if (/\bat .*\.(ts|js):\d+/.test(during.body))
    throw new Error(`a stack trace reached the client while ${name} was paused: ${during.body}`);
  return {
    evidence: `subgraph ${name} pid ${pid} state ${state} for ${ctx.options.holdMs} ms; meanwhile /healthz ${health}, its query ${during.ok ? 'answered' : `failed (${during.status}: ${during.body.slice(0, 120)})`}`,
    clearedAt: Date.now(),
    recovered: () => allAnswer(ctx),
  };
}

/**
 * A full disk under the pipeline's tables, simulated: a filesystem cannot be filled for one schema
 * on a shared server, so a statement trigger on every table the pipeline appends to (raw events,
 * rollups, dead letters, and the table topics' records when the log is in Postgres) raises the
 * error Postgres raises when it cannot extend a file (SQLSTATE 53100 disk_full) for `holdMs`.
 * A sequence counts the refused writes (sequences are not rolled back with the failed statement).
 */
async function diskFull(ctx: FaultContext): Promise<Injection> {
  const s = ctx.deployment.schema;
  const tables = ['raw_events', 'rollups', 'dead_letters'];
  if (!ctx.deployment.env.KAFKA_BROKERS) tables.push('records');
  const q = (sql: string) => ctx.probes.pool.query(`SET lock_timeout = '10s'; ${sql}`);
  await q(`CREATE SEQUENCE IF NOT EXISTS ${s}.chaos_disk_full_hits;
    CREATE OR REPLACE FUNCTION ${s}.chaos_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM nextval('${s}.chaos_disk_full_hits');
      RAISE EXCEPTION 'could not extend file: No space left on device (simulated by the chaos driver)' USING ERRCODE = 'disk_full';
    END $$;`);
  const hits0 = Number(
    (await ctx.probes.pool.query(`SELECT last_value, is_called FROM ${s}.chaos_disk_full_hits`)).rows.map((r) =>
      r.is_called ? r.last_value : 0,
    )[0],
  );
  for (const t of tables)
    await q(
      `CREATE TRIGGER chaos_disk_full BEFORE INSERT OR UPDATE ON ${s}.${t} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.chaos_disk_full()`,
    );
  const full = await ctx.probes.positions();
  await sleep(ctx.options.holdMs);
  const during = await ctx.probes.positions();
  for (const t of tables) await q(`DROP TRIGGER IF EXISTS chaos_disk_full ON ${s}.${t}`);
  const hits =
    Number((await ctx.probes.pool.query(`SELECT last_value FROM ${s}.chaos_disk_full_hits`)).rows[0].last_value) -
    hits0;
  if (hits <= 0) throw new Error('no write reached the full tables: the fault did not bite');
  const before = await ctx.probes.positions();
  return {
    evidence: `${hits} writes refused with SQLSTATE 53100 on ${tables.join(', ')} for ${ctx.options.holdMs} ms; loader ${during.loader - full.loader === 0 ? 'stood still' : `moved ${during.loader - full.loader}`}`,
    clearedAt: Date.now(),
    recovered: async () => await progressed(ctx, ['loader', 'speed'])(before),
  };
}

export function injectFault(kind: FaultKind, ctx: FaultContext): Promise<Injection> {
  if (kind.startsWith('kill9:')) return kill9(ctx, kind.slice('kill9:'.length) as Role);
  switch (kind) {
    case 'redis-wipe':
      return redisWipe(ctx);
    case 'kafka-outage':
      return kafkaOutage(ctx);
    case 'postgres-restart':
      return postgresRestart(ctx);
    case 'drop-connections':
      return dropConnections(ctx);
    case 'subgraph-pause':
      return subgraphPause(ctx);
    case 'disk-full':
      return diskFull(ctx);
    default:
      throw new Error(`unknown fault ${kind}`);
  }
}
