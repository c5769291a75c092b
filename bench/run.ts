/**
 * `npm run bench`: every scenario on the real services, several runs with alternating variants,
 * median and spread printed and written to bench/results.md (README embeds it).
 *
 *   npm run bench                 # full sizes (tens of minutes on 2 cores)
 *   npm run bench -- --quick      # small sizes, one run: the smoke CI runs (no timing assertions)
 *   npm run bench -- --only refresh,queries,pipeline,scale --runs 3
 *   npm run bench -- --only subscribers --subscribers 1000,10000 --events-per-sec 1000
 *
 * Services come from DATABASE_URL / REDIS_URL / KAFKA_BROKERS, else scripts/services-up.sh starts them.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import * as prettier from 'prettier';
import { createFigures, median, toMarkdown } from './stats.ts';
import { runRefreshScenario } from './scenarios/refresh.ts';
import { MIXED, runQueriesScenario } from './scenarios/queries.ts';
import { runPipelineScenario } from './scenarios/pipeline.ts';
import { runSubscribersScenario } from './scenarios/subscribers.ts';
import { runScaleScenario } from './scenarios/scale.ts';
import { deletePrefixKeys } from '../speed/redis-store.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'year-events': { type: 'string' },
    'backlog-events': { type: 'string' },
    'refresh-base': { type: 'string' },
    seconds: { type: 'string' },
    samples: { type: 'string' },
    'pipeline-events': { type: 'string' },
    'pipeline-seconds': { type: 'string' },
    rates: { type: 'string' },
    subscribers: { type: 'string' },
    'events-per-sec': { type: 'string' },
    'events-per-delta': { type: 'string' },
    'scale-events': { type: 'string' },
  },
});
const quick = args.quick!;
const runs = Number(args.runs ?? (quick ? 1 : 3));
const only = new Set((args.only ?? 'refresh,queries,pipeline,scale,subscribers').split(',').map((x) => x.trim()));
const out =
  args.out ?? (quick ? path.join(os.tmpdir(), 'millrace-bench-quick.md') : path.join(ROOT, 'bench', 'results.md'));
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const PARTITIONS = 4;
const SLICE = 500;
const roundTo = (n: number, m: number) => Math.max(m, Math.round(n / m) * m);

function services(): { databaseUrl: string; redisUrl: string; brokers: string } {
  let { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, KAFKA_BROKERS: brokers } = process.env;
  if (!databaseUrl || !redisUrl || !brokers) {
    log('starting services (scripts/services-up.sh)');
    const lines = execFileSync('bash', [path.join(ROOT, 'scripts', 'services-up.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const env = Object.fromEntries(
      lines
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    databaseUrl ??= env.DATABASE_URL;
    redisUrl ??= env.REDIS_URL;
    brokers ??= env.KAFKA_BROKERS;
  }
  if (!databaseUrl || !redisUrl || !brokers)
    throw new Error('bench: no DATABASE_URL / REDIS_URL / KAFKA_BROKERS, and services-up.sh did not print them');
  return { databaseUrl, redisUrl, brokers };
}

async function main() {
  const { databaseUrl, redisUrl, brokers } = services();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  const id = randomBytes(3).toString('hex');
  const figures = createFigures();
  const schemas: string[] = [];
  const prefixes: string[] = [];
  const t0 = Date.now();
  try {
    if (only.has('refresh')) {
      const schema = `bench_refresh_${id}`;
      schemas.push(schema);
      await runRefreshScenario({
        pool,
        schema,
        partitions: PARTITIONS,
        slice: SLICE,
        runs,
        figures,
        log,
        base: roundTo(Number(args['refresh-base'] ?? (quick ? 20_000 : 400_000)), PARTITIONS * SLICE),
        shares: [0.1, 1, 10],
      });
      await writeResults(figures, t0, false);
    }
    if (only.has('queries')) {
      const schema = `bench_q_${id}`;
      const prefix = `bench-q-${id}`;
      schemas.push(schema);
      prefixes.push(prefix);
      await runQueriesScenario({
        pool,
        databaseUrl,
        redisUrl,
        schema,
        prefix,
        partitions: PARTITIONS,
        slice: SLICE,
        runs,
        figures,
        log,
        yearEvents: roundTo(Number(args['year-events'] ?? (quick ? 40_000 : 1_000_000)), PARTITIONS * SLICE),
        backlogEvents: Number(args['backlog-events'] ?? (quick ? 20_000 : 1_000_000)),
        seconds: Number(args.seconds ?? (quick ? 2 : 10)),
        connections: [10, 100],
        checkpoint: () => writeResults(figures, t0, false),
        samples: Number(args.samples ?? (quick ? 20 : 100)),
      });
    }
    if (only.has('pipeline')) {
      await runPipelineScenario({
        databaseUrl,
        redisUrl,
        brokers: brokers.split(','),
        events: Number(args['pipeline-events'] ?? (quick ? 40_000 : 200_000)),
        rates: (args.rates ?? (quick ? '1000' : '1000,5000,20000')).split(',').map(Number),
        seconds: Number(args['pipeline-seconds'] ?? (quick ? 2 : 10)),
        runs,
        figures,
        log,
      });
      await writeResults(figures, t0, false);
    }
    if (only.has('scale')) {
      await runScaleScenario({
        root: ROOT,
        databaseUrl,
        redisUrl,
        kafkaBrokers: brokers,
        prefix: `bench-scale-${id}`,
        partitions: PARTITIONS,
        slice: SLICE,
        events: Number(args['scale-events'] ?? (quick ? 40_000 : 300_000)),
        runs,
        figures,
        log,
      });
      await writeResults(figures, t0, false);
    }
    if (only.has('subscribers')) {
      const schema = `bench_subs_${id}`;
      const prefix = `bench-subs-${id}`;
      schemas.push(schema);
      prefixes.push(prefix);
      await runSubscribersScenario({
        pool,
        databaseUrl,
        redisUrl,
        schema,
        prefix,
        sizes: (args.subscribers ?? (quick ? '200' : '1000,10000')).split(',').map(Number),
        seconds: Number(args.seconds ?? (quick ? 3 : 20)),
        eventsPerSec: Number(args['events-per-sec'] ?? 1000),
        // One delta per speed-layer batch: the applier, kicked by each loader commit, makes ~10 a second.
        eventsPerDelta: Number(args['events-per-delta'] ?? 100),
        runs,
        figures,
        log,
      });
      await writeResults(figures, t0, false);
    }
  } finally {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => undefined);
    await pool.end();
    for (const p of prefixes) await deletePrefixKeys(redisUrl, p);
  }

  await writeResults(figures, t0, true);
}

/** The table so far (after each scenario, so a long run that is stopped keeps what it measured). */
async function writeResults(figures: ReturnType<typeof createFigures>, t0: number, final: boolean) {
  const list = figures.list();
  const header = [
    `<!-- generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString()}; do not edit by hand -->`,
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), shared; Postgres, Redis on the same machine; ${runs} run(s) per variant, alternating; ` +
      `spread = (max − min) / median; ${((Date.now() - t0) / 60_000).toFixed(1)} min.`,
    '',
  ].join('\n');
  const ratios = ratioLines(figures);
  // Formatted as the repository's own files are (prettier), so a run leaves `format:check` clean.
  const md = await prettier.format(`${header}\n${toMarkdown(list)}\n\n${ratios.map((r) => `- ${r}`).join('\n')}\n`, {
    ...(await prettier.resolveConfig(out)),
    parser: 'markdown',
  });
  await writeFile(out, md);
  // README embeds the full run's table between its bench:results markers (never a --quick one).
  if (!quick && !args.out) {
    const readme = path.join(ROOT, 'README.md');
    const text = await readFile(readme, 'utf8');
    const re = /<!-- bench:results -->[\s\S]*?<!-- \/bench:results -->/;
    // The whole file through prettier too: where the table meets the text around it is its call.
    if (re.test(text))
      await writeFile(
        readme,
        await prettier.format(text.replace(re, `<!-- bench:results -->\n${md}<!-- /bench:results -->`), {
          ...(await prettier.resolveConfig(readme)),
          parser: 'markdown',
        }),
      );
  }
  if (final) {
    console.log(md);
    log(`written to ${out}`);
  }
}

/** The issue's goals as ratios of figures measured in the same run. */
function ratioLines(f: ReturnType<typeof createFigures>): string[] {
  const q = '24 h hourly per-station query';
  const rps = (v: string) => f.get(q, v, 'throughput');
  const lines: string[] = [];
  const pgb = rps('pgbench, same rollup rows, 10 conn.');
  const direct = rps('subgraph direct, 10 conn.');
  if (pgb && direct)
    lines.push(`subgraph direct / pgbench at 10 connections: ${(direct / pgb).toFixed(2)}× (goal ≥ 0.5×)`);
  // The ceiling of the stack on this machine: no server of ours can beat a constant answer.
  const apollo = rps('ceiling: Apollo Server, constant answer, 10 conn.');
  const bare = rps('ceiling: node:http, constant answer, 10 conn.');
  if (pgb && bare && apollo)
    lines.push(
      `ceilings / pgbench at 10 connections: node:http ${(bare / pgb).toFixed(2)}×, Apollo Server ${(apollo / pgb).toFixed(2)}× (a constant answer, no store read)`,
    );
  if (apollo && direct)
    lines.push(`subgraph direct / Apollo Server's constant answer at 10 connections: ${(direct / apollo).toFixed(2)}×`);
  const unshared = rps('subgraph direct, reads not shared, 10 conn.');
  if (unshared && direct)
    lines.push(`subgraph direct, reads shared / not shared at 10 connections: ${(direct / unshared).toFixed(2)}×`);
  const off = rps('gateway, dedup off, 10 conn.');
  if (off && direct)
    lines.push(`gateway (dedup off) / subgraph direct at 10 connections: ${(off / direct).toFixed(2)}× (goal ≥ 0.8×)`);
  // What any gateway costs on this machine: a proxy with nothing in it, in front of the same subgraph.
  const proxy = rps('ceiling of a gateway: bare node:http proxy → subgraph, 10 conn.');
  if (proxy && direct)
    lines.push(
      `bare node:http proxy / subgraph direct at 10 connections: ${(proxy / direct).toFixed(2)}× (the ceiling of any gateway here)` +
        (off ? `; gateway (dedup off) / the proxy: ${(off / proxy).toFixed(2)}×` : ''),
    );
  const on = rps('gateway, dedup on, 100 conn.');
  const direct100 = rps('subgraph direct, 100 conn.');
  if (on && direct100)
    lines.push(`gateway (dedup on) / subgraph direct at 100 connections: ${(on / direct100).toFixed(2)}×`);
  for (const c of [10, 100]) {
    const cache = rps(`gateway, cache on, ${c} conn.`);
    const d = rps(`subgraph direct, ${c} conn.`);
    const u = rps(`subgraph direct, reads not shared, ${c} conn.`);
    if (cache && d)
      lines.push(
        `gateway (cache on) / subgraph direct at ${c} connections: ${(cache / d).toFixed(2)}× (goal ≥ 2×)` +
          (u ? `; / the subgraph with reads not shared: ${(cache / u).toFixed(2)}×` : ''),
      );
  }
  // A station at random: concurrent requests are mostly different questions.
  const mixed = (v: string) => f.get(MIXED, v, 'throughput');
  for (const c of [10, 100]) {
    const cache = mixed(`gateway, cache on, ${c} conn.`);
    const d = mixed(`subgraph direct, ${c} conn.`);
    const u = mixed(`subgraph direct, reads not shared, ${c} conn.`);
    const g = mixed(`gateway, dedup off, ${c} conn.`);
    if (cache && d)
      lines.push(
        `a station at random, ${c} connections: gateway (cache on) / subgraph direct ${(cache / d).toFixed(2)}× (goal ≥ 2×)` +
          (u ? `; subgraph reads shared / not shared ${(d / u).toFixed(2)}×` : '') +
          (g ? `; gateway (dedup off) / direct ${(g / d).toFixed(2)}×` : ''),
      );
  }
  const s = 'serving layer (in process)';
  const steady = f.list().filter((x) => x.scenario === s && x.variant.endsWith('steady state') && x.measure === 'p50');
  for (const st of steady) {
    const label = st.variant.replace(' — steady state', '');
    const behind = f
      .list()
      .find((x) => x.scenario === s && x.variant.startsWith(`${label} — batch`) && x.measure === 'p50');
    if (behind)
      lines.push(
        `${label}: p50 with the batch layer behind / steady: ${(median(behind.values) / median(st.values)).toFixed(2)}× (goal < 2×)`,
      );
  }
  const sc = 'scale-out: loader + speed processes';
  const one = f.get(sc, '1 loader', 'loader throughput');
  const two = f.get(sc, '2 loaders', 'loader throughput');
  if (one && two) lines.push(`loader throughput, 2 processes / 1: ${(two / one).toFixed(2)}×`);
  const a1 = f.get(sc, '1 speed applier', 'speed throughput');
  const a2 = f.get(sc, '2 speed appliers', 'speed throughput');
  if (a1 && a2) lines.push(`speed throughput, 2 appliers / 1: ${(a2 / a1).toFixed(2)}× (they split the partitions)`);
  const p = 'pipeline (log → loader → batch [+ speed])';
  const insert = f.get(p, 'baseline: bare pg INSERT … ON CONFLICT, 1 000-row transactions', 'throughput');
  for (const speed of ['on', 'off']) {
    const rate = f.get(p, `millrace, speed layer ${speed}`, 'throughput');
    if (rate && insert)
      lines.push(
        `pipeline, speed layer ${speed}: ${Math.round(rate).toLocaleString('en-US')} events/s = ` +
          `${(rate / insert).toFixed(2)}× the bare pg insert (goal ≥ 20 000 events/s and ≥ 0.6×)`,
      );
  }
  const subs = 'graphql-ws subscribers, one gateway process';
  for (const v of new Set(
    f
      .list()
      .filter((x) => x.scenario === subs && !x.variant.startsWith('ceiling'))
      .map((x) => x.variant),
  )) {
    const heap = f.get(subs, v, 'heap per subscriber');
    const p99 = f.get(subs, v, 'delivery p99');
    const after = f.get(subs, v, 'heap after they left / before');
    // The same clients at the same rate from a bare `ws` server: the delivery this machine gives.
    const bare = f.get(subs, `ceiling: bare ws broadcast, ${v}`, 'delivery p99');
    lines.push(
      `${v}: ${heap.toFixed(1)} KiB heap each (goal ≤ 20), delivery p99 ${p99.toFixed(0)} ms (goal < 100` +
        (bare ? `; a bare ws broadcast to as many: ${bare.toFixed(0)} ms` : '') +
        `), heap after they left ${(after - 100).toFixed(1)} % from before (goal within 5 %)`,
    );
  }
  const r = 'batch refresh';
  for (const share of ['0.1', '1', '10']) {
    const inc = f.get(r, `${share} % new data`, 'incremental');
    const full = f.get(r, `${share} % new data`, 'full rebuild');
    if (inc && full)
      lines.push(`refresh after ${share} % new data: full rebuild / incremental = ${(full / inc).toFixed(1)}×`);
  }
  return lines;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
