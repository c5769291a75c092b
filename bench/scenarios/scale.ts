import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaTopic } from '../../log/kafka-topic.ts';
import { createRoleProcess, type RoleProcess } from '../../scripts/chaos/role-process.ts';
import { STATIONS } from '../seed-raw.ts';
import type { Figures } from '../stats.ts';
import { deletePrefixKeys } from '../../speed/redis-store.ts';

export interface ScaleScenario {
  root: string;
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
  /** Names the log topic (`<prefix>.log`), the loader group and the Redis keys of the runs. */
  prefix: string;
  partitions: number;
  slice: number;
  /** Events in the backlog every run loads. */
  events: number;
  runs: number;
  figures: Figures;
  log: (line: string) => void;
}

const SCENARIO = 'scale-out: loader + speed processes';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One vs two loader and speed-applier processes (`millrace up --target loader|speed`) over the same
 * backlog: `events` machining envelopes are put on the log once; each run starts from an empty
 * schema and empty Redis keys, starts k loaders and k appliers, and times the stretch from the
 * moment the loader group is stable with k members to the moment every partition is loaded (and,
 * apart, applied). The variants alternate run by run.
 */
export async function runScaleScenario(o: ScaleScenario): Promise<void> {
  const topicName = `${o.prefix}.log`;
  const topic = createKafkaTopic({ brokers: o.kafkaBrokers.split(','), name: topicName, partitions: o.partitions });
  const admin = new Kafka({
    clientId: `${o.prefix}-bench`,
    brokers: o.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 2 });
  const redis = new Redis(o.redisUrl);
  const logDir = await mkdtemp(path.join(tmpdir(), 'millrace-bench-scale-'));
  await admin.connect();
  try {
    await topic.ensure();
    o.log(`scale: putting ${o.events} events on ${topicName}`);
    const t = Date.UTC(2026, 10, 1);
    for (let i = 0; i < o.events; i += 10_000) {
      await topic.publish(
        Array.from({ length: Math.min(10_000, o.events - i) }, (_, j) => envelope(o.prefix, i + j, t)),
      );
    }
    const end = (await topic.endOffsets()).reduce((a, b) => a + b, 0);
    for (let run = 0; run < o.runs; run++) {
      for (const k of run % 2 === 0 ? [1, 2] : [2, 1]) {
        const schema = `${o.prefix.replace(/[^a-z0-9_]/g, '_')}_r${run}_${k}`;
        await deletePrefixKeys(o.redisUrl, o.prefix);
        const r = await measure(o, { k, schema, end, admin, pool, redis, logDir });
        o.log(
          `scale: run ${run + 1}, ${k} of each: loaded ${Math.round(r.loaded)} events/s, ` +
            `applied ${Math.round(r.applied)} events/s`,
        );
        o.figures.add(SCENARIO, `${k} loader${k > 1 ? 's' : ''}`, 'loader throughput', 'events/s', r.loaded);
        o.figures.add(SCENARIO, `${k} speed applier${k > 1 ? 's' : ''}`, 'speed throughput', 'events/s', r.applied);
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    }
  } finally {
    await deletePrefixKeys(o.redisUrl, o.prefix);
    await admin.deleteTopics({ topics: [topicName] }).catch(() => undefined);
    await admin.deleteGroups([`${o.prefix}-loader`]).catch(() => undefined);
    await admin.disconnect();
    await topic.close();
    redis.disconnect();
    await pool.end();
    await rm(logDir, { recursive: true, force: true });
  }
}

async function measure(
  o: ScaleScenario,
  r: {
    k: number;
    schema: string;
    end: number;
    admin: ReturnType<Kafka['admin']>;
    pool: pg.Pool;
    redis: Redis;
    logDir: string;
  },
): Promise<{ loaded: number; applied: number }> {
  const env = {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    KAFKA_BROKERS: o.kafkaBrokers,
    MILLRACE_SCHEMA: r.schema,
    MILLRACE_PREFIX: o.prefix,
    MILLRACE_PARTITIONS: String(o.partitions),
    MILLRACE_SLICE: String(o.slice),
    MILLRACE_SIMULATOR: 'off',
  };
  const procs: RoleProcess[] = [];
  for (const role of ['loader', 'speed'])
    for (let i = 0; i < r.k; i++)
      procs.push(
        createRoleProcess({ role, root: o.root, env, logFile: path.join(r.logDir, `${r.schema}-${role}-${i}.log`) }),
      );
  const sums = async () => {
    const l = await r.pool.query(`SELECT coalesce(sum(next_offset), 0)::bigint AS n FROM ${r.schema}.loader_offsets`);
    const s = await r.redis.hvals(`{${o.prefix}}:speed_offset`);
    return { loaded: Number(l.rows[0].n), applied: s.reduce((a, b) => a + Number(b), 0) };
  };
  try {
    // Side by side (migrations take an advisory lock): the loaders join the group within the
    // broker's initial rebalance delay (3 s by default), so they usually start in one generation.
    await Promise.all(procs.map((p) => p.start()));
    for (;;) {
      const [g] = (await r.admin.describeGroups([`${o.prefix}-loader`])).groups;
      if (g.state === 'Stable' && g.members.length === r.k) break;
      await sleep(50);
    }
    const t0 = performance.now();
    const at0 = await sums();
    let loadedAt = at0.loaded >= r.end ? 0 : NaN;
    let s = at0;
    while (s.applied < r.end) {
      await sleep(50);
      s = await sums();
      if (Number.isNaN(loadedAt) && s.loaded >= r.end) loadedAt = performance.now();
    }
    const appliedAt = performance.now();
    if (at0.loaded > r.end / 2) o.log(`scale: ${at0.loaded} of ${r.end} were loaded before the group was stable`);
    if (!loadedAt) return { loaded: NaN, applied: NaN }; // all done before the group settled: backlog too small
    return {
      loaded: ((r.end - at0.loaded) / (loadedAt - t0)) * 1000,
      applied: ((r.end - at0.applied) / (appliedAt - t0)) * 1000,
    };
  } finally {
    for (const p of procs) await p.stop();
  }
}

/** A machining event as the Kafka connector puts it on the log (the envelope the loader accepts). */
function envelope(prefix: string, i: number, t: number) {
  const part = `P${Math.floor(i / 22)}`;
  const exit = i % 2 === 1;
  return {
    key: part,
    value: JSON.stringify({
      id: `${prefix}-${i}`,
      source: 'bench',
      type: exit ? 'machining.exit' : 'machining.enter',
      key: part,
      eventTime: t + i * 50,
      payload: {
        partId: part,
        station: STATIONS[Math.floor(i / 2) % STATIONS.length],
        machine: 'M-1',
        operator: 'E0001',
        errorCode: i % 50 === 1 ? 'E12' : null,
        cycleTimeMs: exit ? 20_000 + (i % 300_000) : null,
      },
    }),
  };
}
