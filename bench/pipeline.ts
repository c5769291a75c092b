/**
 * Pipeline throughput and produce→subscriber latency on the real services.
 *
 *   npm run services:up && npx tsx bench/pipeline.ts [--events 100000] [--latency-seconds 20] [--rate 200]
 *
 * 1. Throughput: N machining messages are put in a fresh source topic; then (a) the baseline, a
 *    bare kafkajs consumer, reads them all; (b) millrace (connector → log → loader → speed + batch)
 *    catches up on them. Printed: events/s of each and the ratio.
 * 2. Latency: with millrace running, messages are produced at a steady rate; each speed delta that
 *    reaches a graphql-ws subscriber through the gateway is timed against its newest event's
 *    produce time. Printed: p50/p99.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import pg from 'pg';
import { loadConfig } from '../app/config.ts';
import { startTarget } from '../app/modules.ts';
import { collectStatus } from '../app/status.ts';
import { createKafkaTopic } from '../log/kafka-topic.ts';
import { freePort } from '../e2e/harness.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'latency-seconds': { type: 'string', default: '20' },
    rate: { type: 'string', default: '200' },
  },
});
const N = Number(args.events);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(3).toString('hex');
const topicName = `bench.machining.${id}`;
const STATIONS = ['RCV', 'INS', 'DIE', 'BND', 'ENC', 'CUR', 'BRN', 'TST', 'MRK', 'PKG', 'SHP'];

function message(i: number, at: number) {
  const exit = i % 2 === 1;
  return {
    key: `P${Math.floor(i / 22)}`,
    value: JSON.stringify({
      eventId: `b${id}-${i}`,
      kind: exit ? 'exit' : 'enter',
      partId: `P${Math.floor(i / 22)}`,
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

const log = (l: string) => process.stderr.write(`${l}\n`);
const pct = (xs: number[], p: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const source = createKafkaTopic({ brokers, name: topicName, partitions: 2 });
  await source.ensure();
  log(`producing ${N} messages to ${topicName}…`);
  const t0 = Date.now();
  for (let i = 0; i < N; i += 5000) {
    await source.publish(
      Array.from({ length: Math.min(5000, N - i) }, (_, j) => message(i + j, Date.UTC(2026, 10, 1) + (i + j) * 50)),
    );
  }
  log(`produced in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // Baseline: the bare driver reading the same messages.
  const kafka = new Kafka({ brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `bench-baseline-${id}` });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName, fromBeginning: true });
  let seen = 0;
  const b0 = Date.now();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= N) resolve();
      },
    });
  });
  const baselineSec = (Date.now() - b0) / 1000;
  await consumer.disconnect();

  // millrace catching up on the same messages.
  const config = loadConfig({
    ...process.env,
    PORT: String(await freePort()),
    MILLRACE_SIMULATOR: 'off',
    MACHINING_TOPIC: topicName,
    MACHINING_PARTITIONS: '2',
    MILLRACE_SCHEMA: `bench_${id}`,
    MILLRACE_PREFIX: `bench-${id}`,
    LEDGER_SCHEMA: `bench_ledger_${id}`,
    // The bench measures the pipeline and delivery (bench/processes.ts does the same); issue 11's
    // tests measure authentication. A caller's MILLRACE_AUTH wins.
    MILLRACE_AUTH: process.env.MILLRACE_AUTH ?? 'off',
  });
  if (!config.DATABASE_URL || !config.REDIS_URL || !config.KAFKA_BROKERS)
    throw new Error('set DATABASE_URL, REDIS_URL, KAFKA_BROKERS (npm run services:up prints them)');
  const app = await startTarget(config, 'all', () => undefined);
  // Steady-state rate: from the moment 10% is through to the moment all is (start-up and consumer
  // group joins are not the pipeline's throughput).
  let p0 = 0;
  let fromEvents = 0;
  const caughtUp = async () => {
    const s = (await collectStatus(app)) as {
      loader: { offsets: number[] };
      speed: { offsets: Array<number | null> };
      connectors: Array<{ positions: number[] }>;
    };
    const read = s.connectors[0].positions.reduce((a, b) => a + b, 0);
    const loaded = s.loader.offsets.reduce((a, b) => a + b, 0);
    const applied = s.speed.offsets.reduce<number>((a, b) => a + (b ?? 0), 0);
    if (p0 === 0 && applied >= N / 10) [p0, fromEvents] = [Date.now(), applied];
    return read >= N && applied >= loaded && loaded >= N;
  };
  while (!(await caughtUp())) await new Promise((r) => setTimeout(r, 50));
  const pipelineSec = (Date.now() - p0) / 1000;
  const pipelineEvents = N - fromEvents;

  // Latency: steady production, timed at the subscriber.
  const url = `ws://127.0.0.1:${config.PORT}/graphql`;
  const client = createClient({ url, webSocketImpl: WebSocket });
  const latencies: number[] = [];
  const dispose = client.subscribe<{ productionDeltas: { maxEventTime: string | null } }>(
    { query: 'subscription { productionDeltas { maxEventTime } }' },
    {
      next: (m) => {
        const t = m.data?.productionDeltas.maxEventTime;
        if (t) latencies.push(Date.now() - Date.parse(t));
      },
      error: (e) => log(String(e)),
      complete: () => undefined,
    },
  );
  await new Promise((r) => setTimeout(r, 500)); // let the subscription reach the subgraph before timing
  const seconds = Number(args['latency-seconds']);
  const rate = Number(args.rate);
  const perTick = Math.max(1, Math.round(rate / 20));
  let i = N;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const tick = Date.now();
    await source.publish(Array.from({ length: perTick }, () => message(i++, Date.now())));
    await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - tick))));
  }
  await new Promise((r) => setTimeout(r, 2000));
  dispose();
  await client.dispose();
  await app.stop();
  await source.close();
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL });
  await pool.query(`DROP SCHEMA IF EXISTS bench_${id} CASCADE`);
  await pool.end();

  const rows = [
    ['baseline: bare kafkajs consumer', `${Math.round(N / baselineSec)} msg/s`, `${baselineSec.toFixed(1)} s`],
    [
      'millrace: source → log → loader → speed (steady state)',
      `${Math.round(pipelineEvents / pipelineSec)} events/s`,
      `${pipelineSec.toFixed(1)} s`,
    ],
    ['ratio millrace / baseline', (pipelineEvents / pipelineSec / (N / baselineSec)).toFixed(3), ''],
    [
      `produce → subscriber latency (${latencies.length} deltas at ${rate}/s)`,
      `p50 ${pct(latencies, 50)} ms`,
      `p99 ${pct(latencies, 99)} ms`,
    ],
  ];
  console.log(`\nmillrace pipeline bench — ${N} events, ${new Date().toISOString()}`);
  for (const r of rows) console.log(`  ${r[0].padEnd(60)} ${r[1].padEnd(20)} ${r[2]}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
