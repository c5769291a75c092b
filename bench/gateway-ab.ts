/**
 * Gateway and subgraph A/B between source trees (e.g. a branch and a checkout of main): over one
 * small seeded schema, per tree a production subgraph, a gateway in front of it with the response
 * cache on and one with in-flight dedup off (no cache); autocannon (10 connections) alternates between them after a
 * warm-up and prints req/s and the gateway process's CPU time per request (/proc, so Linux only),
 * which says more than req/s on a machine shared with other work.
 *
 *   npx tsx bench/gateway-ab.ts --trees before=/path/to/main-checkout,after=$PWD --runs 4
 *   --variants cache,nodedup   --seconds 5   --events 40000   --prof DIR (--cpu-prof of the gateways; --prof-subgraph: and of the subgraphs)
 *
 * Needs DATABASE_URL and REDIS_URL; the schema and keys it makes are dropped at the end.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import autocannon from 'autocannon';
import { allMetrics } from '../metrics/index.ts';
import { createRefresher } from '../batch/refresher.ts';
import { createSpeedApplier } from '../speed/applier.ts';
import { createRedisStore, deletePrefixKeys } from '../speed/redis-store.ts';
import { migrate } from '../store/migrate.ts';
import { seedRaw, seedStations } from './seed-raw.ts';
import { startRole } from './processes.ts';

const { values: a } = parseArgs({
  options: {
    trees: { type: 'string', default: `after=${process.cwd()}` },
    runs: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    events: { type: 'string', default: '40000' },
    prof: { type: 'string' },
    variants: { type: 'string', default: 'cache,nodedup' },
    'prof-subgraph': { type: 'boolean', default: false },
  },
});
const trees = a.trees!.split(',').map((t) => t.split('=') as [string, string]);
const log = (l: string) => process.stderr.write(`[ab] ${l}\n`);
const DAY = 86_400_000;
const P = 4;
const SLICE = 500;

async function main() {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
  const id = randomBytes(3).toString('hex');
  const schema = `gwab_${id}`;
  const prefix = `gwab-${id}`;
  const redisUrl = process.env.REDIS_URL!;
  const stops: Array<() => Promise<void>> = [];
  try {
    await migrate(pool, schema, P);
    const end = Date.UTC(2026, 10, 30);
    await seedStations(pool, schema);
    await seedRaw(pool, schema, { first: 0, count: Number(a.events), partitions: P, from: end - 365 * DAY, to: end });
    const store = createRedisStore({ url: redisUrl, prefix, slice: SLICE });
    const deps = { pool, schema, metrics: allMetrics, partitions: P, slice: SLICE };
    const refresher = createRefresher(deps);
    const applier = createSpeedApplier({ ...deps, store, batchSize: 5000 });
    for (let i = 0; i < 10_000 && (await applier.cycle()) > 0; i++);
    for (let i = 0; i < 10_000 && (await refresher.refreshOnce()) > 0; i++);
    await applier.cycle();
    await store.close();
    const env = {
      DATABASE_URL: process.env.DATABASE_URL!,
      REDIS_URL: redisUrl,
      MILLRACE_SCHEMA: schema,
      MILLRACE_PREFIX: prefix,
      MILLRACE_PARTITIONS: String(P),
      MILLRACE_SLICE: String(SLICE),
    };
    // Per tree its own subgraph (straight to it: "<tree> direct") and gateways in front of it.
    const targets: Array<[string, string, number]> = [];
    const kinds = a.variants!.split(',');
    for (const [name, root] of trees) {
      const prof = a.prof ? ['--cpu-prof', `--cpu-prof-dir=${a.prof}/${name}`] : [];
      const sub = await startRole('subgraph:production', env, `${name} subgraph`, {
        root,
        nodeArgs: a['prof-subgraph'] ? prof : [],
      });
      stops.push(sub.stop);
      targets.push([`${name} direct`, sub.url, sub.proc.pid!]);
      const gwEnv = { ...env, SUBGRAPH_URLS: `production=${sub.url}`, MILLRACE_RATE_PER_MINUTE: '0' };
      if (kinds.includes('cache')) {
        const g = await startRole('gateway', { ...gwEnv, MILLRACE_RESPONSE_CACHE: 'on' }, 'gateway', {
          root,
          nodeArgs: prof,
        });
        stops.push(g.stop);
        targets.push([`${name} cache on`, g.url, g.proc.pid!]);
      }
      if (kinds.includes('nodedup')) {
        const g = await startRole(
          'gateway',
          { ...gwEnv, MILLRACE_RESPONSE_CACHE: 'off', GATEWAY_DEDUP_INFLIGHT: 'false' },
          'gateway',
          { root, nodeArgs: prof },
        );
        stops.push(g.stop);
        targets.push([`${name} dedup off`, g.url, g.proc.pid!]);
      }
    }
    const body = JSON.stringify({
      query:
        'query Q($from: DateTime!, $to: DateTime!) { productionSeries(metric: PARTS_EXITED, grain: HOUR, station: "DIE", from: $from, to: $to) { total points { bucket value } } }',
      variables: { from: new Date(end - DAY).toISOString(), to: new Date(end).toISOString() },
    });
    const answers = new Set<string>();
    for (const [name, url] of targets) {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await r.text();
      answers.add(text);
      if (!text.includes('"points":[{')) throw new Error(`${name}: ${text.slice(0, 300)}`);
    }
    log(`distinct answers: ${answers.size}`);
    // Warm-up (JIT, connection pools), not recorded.
    for (const [, url] of targets)
      await autocannon({
        url,
        connections: Number(a.connections),
        duration: 3,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const results = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const ticks = (pid: number) => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]);
    };
    for (let run = 0; run < Number(a.runs); run++) {
      const order = run % 2 === 0 ? targets : [...targets].reverse();
      for (const [name, url, pid] of order) {
        const t0 = ticks(pid);
        const r = await autocannon({
          url,
          connections: Number(a.connections),
          duration: Number(a.seconds),
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (r.errors + r.non2xx + r.timeouts > 0) log(`${name}: ${r.errors} err ${r.non2xx} non2xx ${r.timeouts} t/o`);
        const us = ((ticks(pid) - t0) * 10_000) / r.requests.total;
        results.set(name, [...(results.get(name) ?? []), r.requests.average]);
        cpu.set(name, [...(cpu.get(name) ?? []), us]);
        log(
          `run ${run + 1} ${name}: ${r.requests.average.toFixed(0)} req/s p99 ${r.latency.p99} ms, ${us.toFixed(0)} µs CPU/req`,
        );
      }
    }
    const med = (xs: number[]) => {
      const s = [...xs].sort((x, y) => x - y);
      return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    };
    for (const [name, xs] of results) {
      const direct = med(results.get(`${name.split(' ')[0]} direct`)!);
      console.log(
        `${name.padEnd(22)} median ${med(xs).toFixed(0).padStart(6)} req/s  (${xs.map((x) => x.toFixed(0)).join(', ')})  ${(med(xs) / direct).toFixed(2)}× direct; CPU/req median ${med(cpu.get(name)!).toFixed(0)} µs (${cpu
          .get(name)!
          .map((x) => x.toFixed(0))
          .join(', ')})`,
      );
    }
  } finally {
    for (const s of stops.reverse()) await s();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
    await deletePrefixKeys(redisUrl, prefix);
  }
}

await main();
