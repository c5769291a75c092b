import { Redis } from 'ioredis';
import pg from 'pg';
import { openTopicFromSpec, type TopicSpec } from '../../log/open-topic.ts';
import type { Topic } from '../../log/topic.ts';

export interface ProbeOptions {
  env: Record<string, string>;
  gatewayUrl: string;
  /** Extra headers for GraphQL requests (an auth token, once the gateway wants one). */
  headers?: Record<string, string>;
  /** application_name of the driver's own Postgres sessions (never one the faults terminate). */
  appName: string;
}

/** Positions of every layer, summed over partitions (a layer progressed when its sum grew). */
export interface Positions {
  logEnd: number;
  loader: number;
  speed: number;
  batch: number;
  /** Source topic end offsets (machining + heat) and the Kafka connectors' checkpoints on them. */
  sourceEnd: number;
  sourceRead: number;
}

export interface Probes {
  pool: pg.Pool;
  redis: Redis;
  positions(): Promise<Positions>;
  /** Per-partition vectors, for the verify status shim. */
  vectors(): Promise<{
    logEnd: number[];
    loader: number[];
    batch: number[];
    speed: Array<number | null>;
    connectors: Array<{ name: string; positions: number[]; sourceEnd: number[] }>;
  }>;
  /** A query through the gateway that needs `subgraph` answered with data and no error. */
  answers(subgraph: string, timeoutMs?: number): Promise<{ ok: boolean; status: number; body: string }>;
  close(): Promise<void>;
}

// Wide enough for any simulated clock, within the serving layer's bucket limit (5 000).
const FAR = { from: '2025-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' };
/** One query per subgraph that only it can answer (a subgraph without an entry is not probed). */
export const PROBE_QUERIES: Record<string, string> = {
  production: `{ productionSeries(metric: PARTS_EXITED, grain: DAY, from: "${FAR.from}", to: "${FAR.to}") { total } }`,
  // A cheap read of the quality subgraph (a per-station figure over years is over the cost limit).
  quality: `{ orders(first: 1) { totalCount } }`,
  energy: `{ energy(from: "${FAR.from}", to: "${FAR.to}", grain: DAY) { from to } }`,
  workforce: `{ attendance(from: "${FAR.from}", to: "${FAR.to}", grain: DAY) { from to } }`,
};

/** How the driver watches the deployment: straight from Postgres, Redis and the topics, and through the gateway. */
export function createProbes(o: ProbeOptions): Probes {
  const e = o.env;
  const schema = e.MILLRACE_SCHEMA;
  const partitions = Number(e.MILLRACE_PARTITIONS);
  const pool = new pg.Pool({ connectionString: e.DATABASE_URL, max: 4, application_name: o.appName });
  // Postgres restarts and terminated sessions are what this run causes; a dead idle client is no news.
  pool.on('error', () => undefined);
  const redis = new Redis(e.REDIS_URL, { maxRetriesPerRequest: 2, connectionName: o.appName });
  redis.on('error', () => undefined);
  const spec: TopicSpec = e.KAFKA_BROKERS
    ? { kind: 'kafka', brokers: e.KAFKA_BROKERS.split(','), clientId: `${o.appName}` }
    : { kind: 'postgres', schema };
  const open = openTopicFromSpec(spec, pool, () => undefined);
  const log: Topic = open(`${e.MILLRACE_PREFIX}.log`, partitions);
  const sources = [
    { name: 'machining', topic: open(e.MACHINING_TOPIC, Number(e.MACHINING_PARTITIONS ?? 2)) },
    { name: 'heat', topic: open(e.HEAT_TOPIC, 1) },
  ];
  const sum = (xs: Array<number | null>) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);

  const vectors = async () => {
    const offs = await pool.query(
      `SELECT l.next_offset AS loaded, b.next_offset AS batch FROM ${schema}.loader_offsets l JOIN ${schema}.batch_watermarks b USING (partition) ORDER BY l.partition`,
    );
    const speedRaw = await redis.hmget(
      `{${e.MILLRACE_PREFIX}}:speed_offset`,
      ...Array.from({ length: partitions }, (_, p) => String(p)),
    );
    const cps = await pool.query(
      `SELECT connector, partition, next_offset FROM ${schema}.connector_checkpoints WHERE connector = ANY($1)`,
      [sources.map((s) => s.name)],
    );
    const connectors = await Promise.all(
      sources.map(async (s) => {
        const end = await s.topic.endOffsets();
        const pos = end.map((_, p) =>
          Number(cps.rows.find((r) => r.connector === s.name && r.partition === p)?.next_offset ?? 0),
        );
        return { name: s.name, positions: pos, sourceEnd: end };
      }),
    );
    return {
      logEnd: await log.endOffsets(),
      loader: offs.rows.map((r) => Number(r.loaded)),
      batch: offs.rows.map((r) => Number(r.batch)),
      speed: speedRaw.map((v) => (v === null ? null : Number(v))),
      connectors,
    };
  };

  return {
    pool,
    redis,
    vectors,
    async positions() {
      const v = await vectors();
      return {
        logEnd: sum(v.logEnd),
        loader: sum(v.loader),
        batch: sum(v.batch),
        speed: sum(v.speed),
        sourceEnd: sum(v.connectors.flatMap((c) => c.sourceEnd)),
        sourceRead: sum(v.connectors.flatMap((c) => c.positions)),
      };
    },
    async answers(subgraph, timeoutMs = 5000) {
      if (!PROBE_QUERIES[subgraph]) return { ok: true, status: 0, body: 'not probed' };
      try {
        const r = await fetch(`${o.gatewayUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...o.headers },
          body: JSON.stringify({ query: PROBE_QUERIES[subgraph] }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = await r.text();
        const json = JSON.parse(body) as { data?: Record<string, unknown> | null; errors?: unknown[] };
        const ok =
          r.status === 200 && !json.errors?.length && !!json.data && Object.values(json.data).every((v) => v !== null);
        return { ok, status: r.status, body: body.slice(0, 500) };
      } catch (err) {
        return { ok: false, status: 0, body: (err as Error).message };
      }
    },
    async close() {
      for (const t of [log, ...sources.map((s) => s.topic)]) await t.close().catch(() => undefined);
      redis.disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
