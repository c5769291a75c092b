import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import pg from 'pg';
import { loadConfig, type Config } from '../../app/config.ts';
import { startTarget } from '../../app/modules.ts';
import { collectStatus } from '../../app/status.ts';
import { createKafkaTopic } from '../../log/kafka-topic.ts';
import type { Topic } from '../../log/topic.ts';
import { ident, migrate } from '../../store/migrate.ts';
import { freePort, waitFor } from '../../e2e/harness.ts';
import { percentile } from '../stats.ts';
import type { Figures } from '../stats.ts';
import { deletePrefixKeys } from '../../speed/redis-store.ts';

export interface PipelineScenario {
  databaseUrl: string;
  redisUrl: string;
  brokers: string[];
  /** Machining messages each throughput run catches up on. */
  events: number;
  /** Produce rates (events/s) for the freshness measure. */
  rates: number[];
  /** Seconds of steady production per rate. */
  seconds: number;
  runs: number;
  figures: Figures;
  log: (line: string) => void;
}

const SCENARIO = 'pipeline (log → loader → batch [+ speed])';
const FRESH = 'freshness: produce → graphql-ws subscriber through the gateway';
const STATIONS = ['RCV', 'INS', 'DIE', 'BND', 'ENC', 'CUR', 'BRN', 'TST', 'MRK', 'PKG', 'SHP'];
const PARTITIONS = 4;

/** One machining event as a plant's producer writes it (the source topic's JSON). */
function machiningMessage(tag: string, i: number, at: number) {
  const exit = i % 2 === 1;
  const part = `P${Math.floor(i / 22)}`;
  return {
    key: part,
    value: JSON.stringify({
      eventId: `${tag}-${i}`,
      kind: exit ? 'exit' : 'enter',
      partId: part,
      station: STATIONS[Math.floor(i / 2) % STATIONS.length],
      machine: 'M-1',
      operator: 'E0001',
      at: new Date(at).toISOString(),
      nextStation: null,
      errorCode: i % 50 === 1 ? 'E12' : null,
      cycleTimeMs: exit ? 20_000 + (i % 300_000) : null,
    }),
  };
}

/**
 * Ingest against the bare limits, all in one run on the same machine:
 * - baselines: a bare kafkajs consumer reading the source topic, and bare `pg` INSERTs of the same
 *   number of event rows (the master dataset's shape, ON CONFLICT DO NOTHING, 1 000-row transactions);
 * - millrace on the same topic, every role in this process, with the speed layer on and off
 *   (alternating): the connector copies the topic into the log, then loader, batch [and speed] catch
 *   up on it: steady-state events/s into the master dataset (from 10 % to 100 % loaded [and applied]),
 *   and how long the batch layer needed after the loader to fold everything (refresh never the
 *   bottleneck ⇔ this stays small);
 * - freshness: with the whole stack up (gateway, subgraphs), machining events produced at each
 *   rate for `seconds`; each speed delta a graphql-ws subscriber receives through the gateway is
 *   timed against its newest event's produce time.
 */
export async function runPipelineScenario(o: PipelineScenario): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const kafka = new Kafka({ brokers: o.brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 4 });
  const topics: string[] = [];
  const schemas: string[] = [];
  const prefixes: string[] = [];
  try {
    for (let run = 0; run < o.runs; run++) {
      const tag = `${id}r${run}`;
      const sourceName = `bench.pipeline.${tag}`;
      topics.push(sourceName);
      const source = createKafkaTopic({ brokers: o.brokers, name: sourceName, partitions: 2 });
      await source.ensure();
      o.log(`pipeline: run ${run + 1}/${o.runs}: producing ${o.events} machining events to ${sourceName}`);
      await produce(source, tag, 0, o.events, Date.UTC(2026, 10, 1));
      await source.close();

      o.log('pipeline: baselines (bare kafkajs consumer, bare pg insert)');
      const consumeRate = await bareConsume(kafka, sourceName, o.events, tag);
      o.figures.add(
        SCENARIO,
        'baseline: bare kafkajs consumer of the source topic',
        'throughput',
        'events/s',
        consumeRate,
      );
      const insertSchema = `bench_pins_${tag}`;
      schemas.push(insertSchema);
      const insertRate = await bareInsert(pool, insertSchema, tag, o.events);
      o.figures.add(
        SCENARIO,
        'baseline: bare pg INSERT … ON CONFLICT, 1 000-row transactions',
        'throughput',
        'events/s',
        insertRate,
      );

      // Alternate which variant goes first, so neither always meets a warmer machine.
      const variants = run % 2 === 0 ? [true, false] : [false, true];
      for (const speed of variants) {
        const name = `${tag}${speed ? 's' : 'n'}`;
        schemas.push(`bench_p_${name}`);
        prefixes.push(`bench-p-${name}`);
        const config = pipelineConfig(o, sourceName, name, 0);
        o.log(`pipeline: millrace, speed layer ${speed ? 'on' : 'off'}, catching up`);
        const r = await catchUp(config, o.events, speed);
        const variant = `millrace, speed layer ${speed ? 'on' : 'off'}`;
        o.figures.add(SCENARIO, variant, 'throughput', 'events/s', r.rate);
        o.figures.add(SCENARIO, variant, 'batch done after loader', 'ms', r.batchAfterLoaderMs);
        o.log(
          `pipeline: run ${run + 1}/${o.runs} ${variant}: ${Math.round(r.rate)} events/s ` +
            `batch +${Math.round(r.batchAfterLoaderMs)} ms ` +
            `(bare consume ${Math.round(consumeRate)}, insert ${Math.round(insertRate)})`,
        );
      }

      // Freshness on a fresh, empty source topic: the stack starts at once and sees only the steady stream.
      const liveName = `bench.pipeline.live.${tag}`;
      topics.push(liveName);
      const live = createKafkaTopic({ brokers: o.brokers, name: liveName, partitions: 2 });
      await live.ensure();
      schemas.push(`bench_p_${tag}l`);
      prefixes.push(`bench-p-${tag}l`);
      const config = pipelineConfig(o, liveName, `${tag}l`, await freePort());
      const app = await startTarget(config, 'all', () => undefined);
      try {
        let next = 0;
        for (const rate of o.rates) {
          const f = await freshness(config, live, tag, next, rate, o.seconds);
          next += f.produced;
          const variant = `${rate.toLocaleString('en-US')} events/s for ${o.seconds} s`;
          o.figures.add(FRESH, variant, 'p50', 'ms', f.p50);
          o.figures.add(FRESH, variant, 'p99', 'ms', f.p99);
          o.figures.add(FRESH, variant, 'delivered', 'events/s', f.deliveredRate);
          o.log(
            `pipeline: freshness at ${rate}/s: p50 ${f.p50} ms, p99 ${f.p99} ms, ` +
              `${f.deltas} deltas, produced ${Math.round(f.producedRate)}/s, ` +
              `delivered ${Math.round(f.deliveredRate)}/s`,
          );
        }
      } finally {
        await app.stop();
        await live.close();
      }
    }
  } finally {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${ident(s)} CASCADE`).catch(() => undefined);
    for (const p of prefixes) await deletePrefixKeys(o.redisUrl, p);
    const created = (await admin.listTopics()).filter(
      (t) => topics.includes(t) || prefixes.some((p) => t.startsWith(`${p}.`)),
    );
    if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
    await pool.end();
  }
}

function pipelineConfig(o: PipelineScenario, sourceTopic: string, name: string, port: number): Config {
  return loadConfig({
    ...process.env,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    KAFKA_BROKERS: o.brokers.join(','),
    PORT: String(port),
    SUBGRAPH_PORT: '0',
    MILLRACE_SIMULATOR: 'off',
    MILLRACE_PARTITIONS: String(PARTITIONS),
    MACHINING_TOPIC: sourceTopic,
    MACHINING_PARTITIONS: '2',
    MILLRACE_SCHEMA: `bench_p_${name}`,
    MILLRACE_PREFIX: `bench-p-${name}`,
    LEDGER_SCHEMA: `bench_p_${name}_ledger`,
    // The bench measures the pipeline and delivery (bench/processes.ts does the same); issue 11's tests measure auth.
    MILLRACE_AUTH: 'off',
  });
}

async function produce(topic: Topic, tag: string, first: number, count: number, at0: number) {
  for (let i = first; i < first + count; i += 5000) {
    const n = Math.min(5000, first + count - i);
    await topic.publish(Array.from({ length: n }, (_, j) => machiningMessage(tag, i + j, at0 + (i + j) * 50)));
  }
}

async function bareConsume(kafka: Kafka, topic: string, n: number, tag: string): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-pipeline-bare-${tag}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let t0 = 0;
  const t1 = await new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        // Timed from the first batch: the group join is not the driver's throughput.
        if (t0 === 0) t0 = performance.now();
        seen += batch.messages.length;
        if (seen >= n) resolve(performance.now());
      },
    });
  });
  await consumer.disconnect();
  return (n / (t1 - t0)) * 1000;
}

/** The master dataset's INSERT, bare: the same statement shape the loader runs, nothing else. */
async function bareInsert(pool: pg.Pool, schema: string, tag: string, n: number): Promise<number> {
  await migrate(pool, schema, PARTITIONS);
  const s = ident(schema);
  const at0 = Date.UTC(2026, 10, 1);
  const rows = Array.from({ length: n }, (_, i) => {
    const m = machiningMessage(tag, i, at0 + i * 50);
    return { id: `machining:${tag}-${i}`, key: m.key, at: at0 + i * 50, payload: m.value, offset: i };
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${s}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                              $5::bigint[], $6::jsonb[], $7::int[], $8::bigint[])
         ON CONFLICT (id) DO NOTHING`,
        [
          chunk.map((r) => r.id),
          chunk.map(() => 'machining'),
          chunk.map(() => 'machining'),
          chunk.map((r) => r.key),
          chunk.map((r) => r.at),
          chunk.map((r) => r.payload),
          chunk.map((r) => r.offset % PARTITIONS),
          chunk.map((r) => r.offset),
        ],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }
  return (n / (performance.now() - t0)) * 1000;
}

const sum = (xs: Array<number | null>) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);

/**
 * Steady-state rate of a counter that climbs to `n`: from the first sample past 10 % to the one at
 * `n` (start-up and consumer-group joins are not throughput). NaN when it got there between two samples.
 */
async function timeTo(what: string, n: number, count: () => Promise<number>) {
  let p0 = 0;
  let from = 0;
  await waitFor(
    what,
    async () => {
      const done = await count();
      if (p0 === 0 && done >= n / 10 && done < n) [p0, from] = [performance.now(), done];
      return done >= n;
    },
    600_000,
    20,
  );
  return p0 === 0 ? NaN : ((n - from) / (performance.now() - p0)) * 1000;
}

/**
 * A fresh deployment, every role in this process: first the connector copies the topic's `n`
 * events into the log; then loader, batch [and speed] catch up on the full log (the timed part).
 */
async function catchUp(config: Config, n: number, speed: boolean) {
  const quiet = () => undefined;
  const roles: Array<Awaited<ReturnType<typeof startTarget>>> = [];
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2 });
  const s = ident(config.MILLRACE_SCHEMA);
  try {
    const offsets = async (table: string) =>
      sum((await pool.query(`SELECT next_offset FROM ${s}.${table}`)).rows.map((r) => Number(r.next_offset)));
    roles.push(await startTarget(config, 'ingest', quiet));
    // Connector checkpoints move per fetched batch (tens of thousands of events): too coarse to time.
    await waitFor(
      `the connector to log ${n} events`,
      async () => (await offsets('connector_checkpoints')) >= n,
      600_000,
      50,
    );
    for (const target of ['loader', 'batch', ...(speed ? ['speed'] : [])]) {
      roles.push(await startTarget(config, target, quiet));
    }
    const speedRole = speed ? roles[3] : null;
    const applied = async () =>
      speedRole
        ? sum(((await collectStatus(speedRole)) as { speed: { offsets: Array<number | null> } }).speed.offsets)
        : n;
    const rate = await timeTo(`the pipeline to load ${n} events`, n, async () =>
      Math.min(await offsets('loader_offsets'), await applied()),
    );
    const loadedAt = performance.now();
    // The batch layer folds whole slices (a partial one waits for MILLRACE_STALL_MS): done when every
    // complete slice the loader wrote is folded.
    const perPartition = async (table: string) =>
      new Map(
        (await pool.query(`SELECT partition, next_offset FROM ${s}.${table}`)).rows.map((r) => [
          Number(r.partition),
          Number(r.next_offset),
        ]),
      );
    const slice = config.MILLRACE_SLICE;
    const target = [...(await perPartition('loader_offsets'))].map(([p, o]) => [p, o - (o % slice)] as const);
    await waitFor(
      `the batch layer to fold every complete slice of ${n} events`,
      async () => {
        const w = await perPartition('batch_watermarks');
        return target.every(([p, o]) => (w.get(p) ?? 0) >= o);
      },
      600_000,
      20,
    );
    const batchAfterLoaderMs = performance.now() - loadedAt;
    return { rate, batchAfterLoaderMs };
  } finally {
    for (const r of roles.reverse()) await r.stop();
    await pool.end();
  }
}

/** Steady production at `rate` for `seconds`; deltas timed at a graphql-ws subscriber through the gateway. */
async function freshness(config: Config, topic: Topic, tag: string, first: number, rate: number, seconds: number) {
  const client = createClient({ url: `ws://127.0.0.1:${config.PORT}/graphql`, webSocketImpl: WebSocket, lazy: false });
  let t0 = Infinity; // wall clock (ms since epoch) at which timed production began
  let newest = 0; // newest event time any delta carried
  let lastDelta = 0;
  const latencies: number[] = [];
  const dispose = client.subscribe<{ productionDeltas: { maxEventTime: string | null } }>(
    { query: 'subscription { productionDeltas { maxEventTime } }' },
    {
      next: (m) => {
        const at = m.data?.productionDeltas.maxEventTime;
        if (!at) return;
        const t = Date.parse(at);
        newest = Math.max(newest, t);
        if (t < t0) return; // warm-up
        lastDelta = Date.now();
        latencies.push(lastDelta - t);
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  try {
    // Readiness, not a sleep: warm-up events until one reaches the subscriber.
    let i = first;
    await waitFor(
      'the subscription to receive a delta',
      async () => {
        await topic.publish([machiningMessage(tag, i++, Date.now())]);
        await new Promise((r) => setTimeout(r, 100));
        return newest > 0;
      },
      60_000,
      0,
    );
    const timedFrom = i;
    const perTick = Math.max(1, Math.round(rate / 20));
    t0 = Date.now();
    let lastAt = t0;
    while (Date.now() - t0 < seconds * 1000) {
      const tick = Date.now();
      lastAt = tick;
      await topic.publish(Array.from({ length: perTick }, () => machiningMessage(tag, i++, tick)));
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - tick))));
    }
    const producedMs = Date.now() - t0;
    const produced = i - timedFrom;
    await waitFor('the last produced event to reach the subscriber', async () => newest >= lastAt, 120_000, 20);
    return {
      produced: i - first,
      producedRate: (produced / producedMs) * 1000,
      deliveredRate: (produced / Math.max(1, lastDelta - t0)) * 1000,
      deltas: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
    };
  } finally {
    dispose();
    await client.dispose();
  }
}
