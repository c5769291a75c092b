/**
 * History back-fill at the notes' scale (≈ 50 M machining events a year, plus the heat sensors).
 *
 *   npx tsx bench/backfill.ts --days 7 [--target kafka|postgres] [--sources all|topics|machining|heat|others] [--seed 42]
 *                             [--no-baseline] [--no-thread] [--no-v8-flags]
 *
 * Writes N simulated days into real sources, as `millrace simulate` does: machining and heat into
 * source topics (Kafka topics with a unique prefix, or Postgres table topics in a unique schema),
 * and with `--sources all` (the default) every other writer too — energy CSV/xlsx, clock-in
 * workbooks and reference files in a temporary directory, orders in a unique Postgres schema, work
 * orders in MariaDB when MARIADB_URL is set (else Postgres). The ledger goes into a unique Postgres
 * schema; everything is removed afterwards. The machining simulator runs in a thread of its own,
 * with the V8 flags of bin/v8-flags.json, as `millrace simulate` runs; `--no-thread` runs machining
 * in the main thread with the others, `--no-v8-flags` runs with V8's defaults. Prints generation
 * events/s, wall time, peak RSS and heap, the projected time for a year; CPU seconds spent by this process, the Kafka broker and Postgres (from /proc:
 * the machine has 2 cores, so CPU per message is the figure that survives a busy neighbour); and a
 * baseline side by side: the same number of pre-serialised messages written by the bare driver
 * (@platformatic/kafka — the driver millrace writes with — and kafkajs, idempotent, acks=all, same
 * request size; or pg INSERTs).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { openTopicFromSpec, type TopicSpec } from '../log/open-topic.ts';
import type { Topic } from '../log/topic.ts';
import { loadConfig } from '../app/config.ts';
import { factorySettings } from '../app/sources.ts';
import { writerFactories } from '../simulator/live-writers.ts';
import { backfill, YEAR_SCALE_MACHINING_PER_SEC } from '../simulator/backfill.ts';
import { heatWire } from '../simulator/sources/heat-faults.ts';
import { toWire } from '../simulator/wire.ts';
import v8Flags from '../bin/v8-flags.json' with { type: 'json' };

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    target: { type: 'string', default: 'kafka' },
    sources: { type: 'string', default: 'all' },
    seed: { type: 'string', default: '42' },
    baseline: { type: 'boolean', default: true },
    thread: { type: 'boolean', default: true },
    'v8-flags': { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const DAYS = Number(args.days);
const target = args.target;
const SOURCES = ['all', 'topics', 'machining', 'heat', 'others'];
if (!(DAYS > 0) || (target !== 'kafka' && target !== 'postgres') || !SOURCES.includes(args.sources!)) {
  throw new Error(
    `usage: --days N (> 0) --target kafka|postgres --sources ${SOURCES.join('|')} [--no-baseline] [--no-thread] [--no-v8-flags]`,
  );
}
// Measure what `millrace simulate` runs: the same V8 flags (bin/millrace.js), which only take
// effect at start-up, so without them this script runs itself again with them.
const SIMULATE_FLAGS: string[] = v8Flags.simulate;
if (args['v8-flags'] && !SIMULATE_FLAGS.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(
    process.execPath,
    [...SIMULATE_FLAGS, ...process.execArgv, process.argv[1], ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(3).toString('hex');
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  max: 8,
});
const ledgerSchema = `bench_ledger_${id}`;
const logSchema = `bench_log_${id}`;
const kafkaTopics: string[] = [];
const opened: Topic[] = [];
const log = (l: string) => process.stderr.write(`${l}\n`);
const MiB = 1024 * 1024;
const dataDir = mkdtempSync(join(tmpdir(), 'bench-backfill-'));
// The other writers exactly as `millrace simulate` wires them, in names of their own.
const benchConfig = loadConfig({
  ...process.env,
  MILLRACE_SCHEMA: `bench_${id}`,
  ORDERS_SCHEMA: `bench_orders_${id}`,
  FACTORY_DIR: dataDir,
});
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** This run's own name of a source topic. */
const topicName = (name: string) =>
  target === 'kafka' ? `bench-${id}.${name}` : `bench_${id}_${name.replace(/\W/g, '_')}`;
/** Where the machining thread opens its topic (named with `topicName` by the bench). */
const topicSpec: TopicSpec = target === 'kafka' ? { kind: 'kafka', brokers } : { kind: 'postgres', schema: logSchema };

const openFromSpec = openTopicFromSpec(topicSpec, pool, log);

/** Open a topic by its full name, counted at the end and removed by `cleanup`. */
function openNamed(name: string, partitions: number): Topic {
  const t = openFromSpec(name, partitions);
  if (target === 'kafka') kafkaTopics.push(t.name);
  opened.push(t);
  return t;
}
const openTopic = (name: string, partitions: number): Topic => openNamed(topicName(name), partitions);

/**
 * CPU seconds (user + system) of every process whose command name matches, from /proc, with what
 * their exited children had used: a Postgres backend whose connection closed before the end (a
 * pool of the machining thread, of a writer) is counted in the postmaster's cutime/cstime.
 */
function procCpu(match: RegExp): number {
  const hz = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match.test(comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime, stime, cutime, cstime (fields 14–17)
    } catch {
      /* exited meanwhile */
    }
  }
  return ticks / hz;
}
interface CpuMark {
  self: number;
  kafka: number;
  postgres: number;
}
const cpuMark = (): CpuMark => {
  const u = process.cpuUsage();
  return { self: (u.user + u.system) / 1e6, kafka: procCpu(/^java$/), postgres: procCpu(/^postgres$/) };
  // (A process that exited between two marks, its parent not matching, takes its ticks with it: differences are clamped at 0.)
};
const cpuSince = (a: CpuMark): CpuMark => {
  const b = cpuMark();
  return {
    self: b.self - a.self,
    kafka: Math.max(0, b.kafka - a.kafka),
    postgres: Math.max(0, b.postgres - a.postgres),
  };
};

/** Peak RSS from the kernel (covers everything, native buffers too) and a sampled peak heap. */
let peakHeap = 0;
const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 250);

/** Representative pre-serialised messages: real wire formats, cycled by the baseline. */
function samples(n: number): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (let i = 0; i < n; i++) {
    const at = Date.UTC(2026, 0, 1) + i * 600;
    out.push(
      i % 2 === 0
        ? toWire({
            eventId: `mbase${id}-${i}`,
            kind: 'exit',
            partId: `mbase${id}-P${i >> 4}`,
            station: 'BND',
            machine: 'BND-1',
            operator: 'E0042',
            at,
            nextStation: 'ENC',
            errorCode: null,
            cycleTimeMs: 41_234,
          })
        : heatWire({
            readingId: `hbase${id}-H-Z3-2-${i}`,
            sensorId: `H-Z${i % 6}-1`,
            zone: `Z${i % 6}`,
            at,
            centiC: 4_120 + (i % 50),
          }),
    );
  }
  return out;
}

const BASE_CHUNK = 5_000;

/** Wall ms and CPU of writing `n` pre-serialised messages with one bare driver. */
async function baseline(n: number, driver: 'platformatic' | 'kafkajs' | 'pg'): Promise<{ ms: number; cpu: CpuMark }> {
  const msgs = samples(10_000);
  const chunk = (i: number) =>
    Array.from({ length: Math.min(BASE_CHUNK, n - i) }, (_, j) => msgs[(i + j) % msgs.length]);
  if (driver !== 'pg') {
    const kafka = new Kafka({ clientId: 'bench-baseline', brokers, logLevel: logLevel.ERROR });
    const name = `bench-${id}.baseline-${driver}`;
    kafkaTopics.push(name);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: name, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const part = (m: { key: string; value: string }, i: number) => ({ ...m, partition: i % 2 });
    if (driver === 'kafkajs') {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      const t0 = performance.now();
      const c0 = cpuMark();
      for (let i = 0; i < n; i += BASE_CHUNK)
        await producer.send({ topic: name, acks: -1, messages: chunk(i).map(part) });
      const r = { ms: performance.now() - t0, cpu: cpuSince(c0) };
      await producer.disconnect();
      return r;
    }
    const producer = new Producer({
      clientId: 'bench-baseline',
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
    });
    await producer.send({ messages: [{ topic: name, ...part(msgs[0], 0) }] }); // connect and load metadata outside the timing
    const t0 = performance.now();
    const c0 = cpuMark();
    for (let i = 0; i < n; i += BASE_CHUNK)
      await producer.send({ messages: chunk(i).map((m, j) => ({ topic: name, ...part(m, j) })) });
    const r = { ms: performance.now() - t0, cpu: cpuSince(c0) };
    await producer.close();
    return r;
  }
  const t0 = performance.now();
  const c0 = cpuMark();
  await pool.query(`CREATE TABLE ${logSchema}.baseline (k text NOT NULL, v text NOT NULL)`);
  for (let i = 0; i < n; i += BASE_CHUNK) {
    const c = chunk(i);
    await pool.query(`INSERT INTO ${logSchema}.baseline SELECT * FROM unnest($1::text[], $2::text[])`, [
      c.map((m) => m.key),
      c.map((m) => m.value),
    ]);
  }
  return { ms: performance.now() - t0, cpu: cpuSince(c0) };
}

async function cleanup() {
  clearInterval(sampler);
  for (const t of opened) await t.close().catch(() => undefined);
  if (kafkaTopics.length > 0) {
    const admin = new Kafka({ clientId: 'bench-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: kafkaTopics })
      .catch((e: Error) => log(`could not delete topics ${kafkaTopics.join(', ')}: ${e.message}`));
    await admin.disconnect();
  }
  await pool.query(`DROP SCHEMA IF EXISTS ${ledgerSchema} CASCADE; DROP SCHEMA IF EXISTS ${logSchema} CASCADE;
    DROP SCHEMA IF EXISTS bench_orders_${id} CASCADE; DROP SCHEMA IF EXISTS bench_${id}_src CASCADE`);
  await pool.end();
  if (benchConfig.MARIADB_URL) {
    const { default: mysql } = await import('mysql2/promise');
    const maria = await mysql.createConnection(benchConfig.MARIADB_URL);
    await maria.query(`DROP TABLE IF EXISTS bench_${id}_machining_archive, bench_${id}_work_orders`);
    await maria.end();
  }
  rmSync(dataDir, { recursive: true, force: true });
}

async function main() {
  const to = Date.UTC(2026, 0, 1) + Math.round(DAYS * 86_400_000);
  const from = Date.UTC(2026, 0, 1);
  if (target === 'postgres') await pool.query(`CREATE SCHEMA IF NOT EXISTS ${logSchema}`);
  log(
    `back-fill ${DAYS} simulated days into ${target} (machining at ${YEAR_SCALE_MACHINING_PER_SEC.toFixed(3)} events/s simulated${args.thread ? ' in a thread' : ''}, heat sensors${args.sources === 'all' ? ', every other source' : ''}), id ${id}`,
  );
  let lastPct = -10;
  const c0 = cpuMark();
  const f = writerFactories(factorySettings(benchConfig, databaseUrl));
  const withMachining = ['all', 'topics', 'machining'].includes(args.sources!);
  const machiningTopic = topicName('mycpu.machining');
  const stats = await backfill({
    from,
    to,
    seed: Number(args.seed),
    pool,
    ledgerSchema,
    openTopic,
    log,
    dataDir,
    // The thread opens the topic by the name it is given: give it this run's.
    machining: !withMachining ? false : args.thread ? { topic: machiningTopic } : {},
    machiningThread: args.thread ? { topic: topicSpec, databaseUrl } : undefined,
    heat: ['all', 'topics', 'heat'].includes(args.sources!) ? {} : false,
    writers: ['all', 'others'].includes(args.sources!) ? [...f.files, f.orders, f.sqlEngine] : [],
    progress: (done, total, s) => {
      const pct = Math.floor((done / total) * 100);
      if (pct >= lastPct + 10) {
        lastPct = pct;
        log(
          `  ${pct}%  ${(done / 86_400_000).toFixed(2)} days  ${s.events.toLocaleString('en')} events  ${Math.round(s.eventsPerSec).toLocaleString('en')} events/s  rss ${Math.round(process.memoryUsage().rss / MiB)} MiB`,
        );
      }
    },
  });
  const cpu = cpuSince(c0);
  const maxRssMiB = (process.resourceUsage().maxRSS * 1024) / MiB;
  const heapMiB = peakHeap / MiB;
  if (withMachining && args.thread) openNamed(machiningTopic, 2); // the thread's, to count (and remove) here
  let messages = 0;
  for (const t of opened) messages += (await t.endOffsets()).reduce((a, b) => a + b, 0);
  const drivers = !args.baseline ? [] : target === 'kafka' ? (['platformatic', 'kafkajs'] as const) : (['pg'] as const);
  const bases: Array<[string, { ms: number; cpu: CpuMark }]> = [];
  for (const d of drivers) {
    log(`baseline: ${messages.toLocaleString('en')} pre-serialised messages with the bare ${d} driver…`);
    bases.push([d, await baseline(messages, d)]);
  }
  const sec = stats.wallMs / 1000;
  const yearMin = (sec * (365 / DAYS)) / 60;
  const us = (s: number) => `${((s * 1e6) / messages).toFixed(1)} µs/msg`;
  const cpuText = (c: CpuMark) =>
    `self ${c.self.toFixed(1)} s (${us(c.self)}), kafka ${c.kafka.toFixed(1)} s (${us(c.kafka)}), postgres ${c.postgres.toFixed(1)} s (${us(c.postgres)})`;
  // Two cores: the year fits 20 minutes only if all CPU spent per message stays under 2 × 1200 s / messages-per-year.
  const cpuYearMin = ((cpu.self + cpu.kafka + cpu.postgres) * (365 / DAYS)) / 60 / 2;
  const rows = [
    ['simulated days', String(DAYS)],
    ['V8 flags', process.execArgv.filter((a) => a.startsWith('--max-')).join(' ') || 'V8 defaults'],
    ['events (unique, all sources)', stats.events.toLocaleString('en')],
    // When each writer reached the end: they go at their own pace, and the last one is the critical path.
    ...Object.entries(stats.bySource).map(([k, v]) => [
      `  ${k}`,
      `${v.written.toLocaleString('en')}${v.doneMs === null ? '' : `, done after ${(v.doneMs / 1000).toFixed(1)} s`}`,
    ]),
    ['messages written (with faults)', messages.toLocaleString('en')],
    ['wall time', `${sec.toFixed(1)} s`],
    [
      'generation rate',
      `${Math.round(stats.eventsPerSec).toLocaleString('en')} events/s (${Math.round(messages / sec).toLocaleString('en')} messages/s)`,
    ],
    ['CPU (this process, broker, Postgres)', cpuText(cpu)],
    ['peak RSS (maxRSS)', `${maxRssMiB.toFixed(0)} MiB`],
    ['peak heap used (sampled, main thread)', `${heapMiB.toFixed(0)} MiB`],
    ['projected year (wall)', `${yearMin.toFixed(1)} min (goal < 20 min, < 1 GiB)`],
    ['projected year (CPU ÷ 2 cores)', `${cpuYearMin.toFixed(1)} min (the floor on an idle 2-core machine)`],
    ...bases.flatMap(([d, b]) => [
      [
        `baseline: bare ${d}`,
        `${(b.ms / 1000).toFixed(1)} s, ${Math.round(messages / (b.ms / 1000)).toLocaleString('en')} messages/s; CPU ${cpuText(b.cpu)}`,
      ],
      [`ratio back-fill / bare ${d} (time)`, `${(stats.wallMs / b.ms).toFixed(2)}×`],
    ]),
    // Everything (Kafka, Postgres, this process) shares the machine: a busy neighbour skews all of the above.
    [
      'load average at the end (1/5 min)',
      loadavg()
        .slice(0, 2)
        .map((x) => x.toFixed(1))
        .join(' / '),
    ],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(
    `\nback-fill bench (${target}, machining ${args.thread ? 'in a thread' : 'in the main thread'})\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`,
  );
}

main().then(cleanup, async (err) => {
  log(String(err?.stack ?? err));
  await cleanup().catch(() => undefined);
  process.exitCode = 1;
});
