import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { FAULT_KINDS, type FaultKind } from './chaos-faults.ts';
import { runChaos } from './run-chaos.ts';
import { formatChaosReport } from './format-chaos-report.ts';

// `npm run chaos`: the services come from the environment (`scripts/services-up.sh` prints them).
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const program = new Command('chaos')
  .description('Kill, pause, wipe and starve a split millrace deployment under load; then verify it lost nothing.')
  .option('--seed <n>', 'seed of the fault schedule and the simulator', String(Date.now() % 1_000_000))
  .option('--rate <n>', 'machining events per real second (MILLRACE_SIM_RATE)', '5000')
  .option('--speed <n>', 'simulated seconds per real second (MILLRACE_SIM_SPEED)', '10')
  .option('--duration <s>', 'length of the fault phase, s (every kind is injected at least once)', '300')
  .option('--min-gap <s>', 'least quiet time before a fault, s', '5')
  .option('--max-gap <s>', 'most quiet time before a fault, s', '20')
  .option('--hold <s>', 'how long a pause or a full disk lasts, s', '5')
  .option('--kinds <list>', `comma-separated fault kinds (default all): ${FAULT_KINDS.join(', ')}`)
  .option('--kafka-restart', 'really restart the Kafka broker (affects everyone on it) instead of pausing it')
  .option(
    '--pg-restart',
    "really restart the PostgreSQL server (affects everyone) instead of terminating this deployment's sessions",
  )
  .option('--table-log', 'no Kafka: the log and source topics as Postgres table topics (kafka-outage is skipped)')
  .option(
    '--out <dir>',
    'role logs and chaos-summary.md',
    path.join(ROOT, '.millrace', 'chaos', new Date().toISOString().replace(/[:.]/g, '-')),
  )
  .option('--keep', 'keep schemas, topics and the Redis database afterwards')
  .parse();

const opts = program.opts();
const env = process.env;
const need = (k: string) =>
  env[k] ??
  (() => {
    throw new Error(`${k} is not set: source the lines scripts/services-up.sh prints`);
  })();
let kinds = (opts.kinds ? String(opts.kinds).split(',') : [...FAULT_KINDS]) as FaultKind[];
const bad = kinds.filter((k) => !FAULT_KINDS.includes(k));
if (bad.length) throw new Error(`unknown fault kinds: ${bad.join(', ')}`);
if (opts.tableLog) kinds = kinds.filter((k) => k !== 'kafka-outage');
const options = {
  root: ROOT,
  services: {
    databaseUrl: need('DATABASE_URL'),
    redisUrl: need('REDIS_URL'),
    kafkaBrokers: opts.tableLog ? undefined : need('KAFKA_BROKERS'),
    mariadbUrl: env.MARIADB_URL,
  },
  seed: Number(opts.seed),
  rate: Number(opts.rate),
  speed: Number(opts.speed),
  durationMs: Number(opts.duration) * 1000,
  minGapMs: Number(opts.minGap) * 1000,
  maxGapMs: Number(opts.maxGap) * 1000,
  kinds: opts.kinds || opts.tableLog ? kinds : undefined,
  outDir: path.resolve(opts.out),
  keep: !!opts.keep,
  fault: { holdMs: Number(opts.hold) * 1000, kafkaRestart: !!opts.kafkaRestart, pgRestart: !!opts.pgRestart },
};
const r = await runChaos(options);
process.stdout.write(`${formatChaosReport(r, options)}\n(written to ${r.reportFile})\n`);
const failed =
  r.verify.mismatches !== 0 || r.verify.code !== 0 || r.faults.some((f) => f.recoveryMs === null || f.error);
process.exit(failed ? 1 : 0);
