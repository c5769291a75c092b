import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import autocannon from 'autocannon';
import { allMetrics } from '../../metrics/index.ts';
import { createRefresher } from '../../batch/refresher.ts';
import { createSpeedApplier } from '../../speed/applier.ts';
import { createRedisStore } from '../../speed/redis-store.ts';
import { createServing } from '../../serving/create-serving.ts';
import type { SeriesQuery } from '../../serving/types.ts';
import { ident, migrate } from '../../store/migrate.ts';
import { seedRaw, seedStations, STATIONS } from '../seed-raw.ts';
import { startFloor, startRole, type Role } from '../processes.ts';
import { percentile, type Figures } from '../stats.ts';

export interface QueriesScenario {
  pool: pg.Pool;
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  prefix: string;
  partitions: number;
  slice: number;
  /** Events spread over a year, folded (steady state). */
  yearEvents: number;
  /** Events in the last day that the batch layer has not folded (the backlog), applied to speed. */
  backlogEvents: number;
  /** Seconds per HTTP load run. */
  seconds: number;
  connections: number[];
  /** Sequential serving calls per latency measurement. */
  samples: number;
  runs: number;
  figures: Figures;
  log: (line: string) => void;
  /** Called after each phase (the runner writes the table so far). */
  checkpoint?: () => Promise<void>;
}

const DAY = 86_400_000;
/** The figures' scenario of the per-station query asked for a station at random. */
export const MIXED = '24 h hourly query, a station at random';
const execFileP = promisify(execFile);

/**
 * Report queries: the 24-hour hourly per-station query at 10/100 connections straight to the
 * production subgraph (reads shared, as deployed, and not shared), through a gateway (in-flight
 * dedup on and off; response cache on), `pgbench` reading the same rollup rows, and the stack's
 * ceiling on this machine: the subgraph's answer as a constant from node:http and from Apollo Server,
 * and a bare node:http proxy in front of the subgraph (the least a gateway adds); the same query for
 * a station at random (a dashboard's wall of stations) straight, unshared, through the gateway
 * without and with the cache; serving-layer latency of a day range vs a year range at day grain; the same
 * with the batch layer `backlogEvents` behind; and an exactness check against raw SQL.
 */
export async function runQueriesScenario(o: QueriesScenario): Promise<void> {
  const s = ident(o.schema);
  await migrate(o.pool, o.schema, o.partitions);
  const end = Date.UTC(2026, 10, 30);
  const start = end - 365 * DAY;
  o.log(`queries: seeding ${o.yearEvents} events over a year`);
  await seedStations(o.pool, o.schema);
  let next = await seedRaw(o.pool, o.schema, {
    first: 0,
    count: o.yearEvents,
    partitions: o.partitions,
    from: start,
    to: end,
  });
  const store = createRedisStore({ url: o.redisUrl, prefix: o.prefix, slice: o.slice });
  const refresher = createRefresher({
    pool: o.pool,
    schema: o.schema,
    metrics: allMetrics,
    partitions: o.partitions,
    slice: o.slice,
  });
  const applier = createSpeedApplier({
    pool: o.pool,
    schema: o.schema,
    store,
    metrics: allMetrics,
    partitions: o.partitions,
    slice: o.slice,
    batchSize: 5000,
  });
  const settle = async (fold: boolean) => {
    for (let i = 0; i < 10_000 && (await applier.cycle()) > 0; i++);
    if (fold) for (let i = 0; i < 10_000 && (await refresher.refreshOnce()) > 0; i++);
    await applier.cycle(); // prunes what the batch layer now holds
  };
  await settle(true);
  const serving = createServing({
    pool: o.pool,
    schema: o.schema,
    store,
    metrics: allMetrics,
    partitions: o.partitions,
    slice: o.slice,
  });

  const lastDay: SeriesQuery = {
    metric: 'parts_exited',
    grain: 'hour',
    from: end - DAY,
    to: end,
    where: { station: 'DIE' },
  };
  const year: SeriesQuery = { metric: 'parts_exited', grain: 'day', from: start, to: end, where: { station: 'DIE' } };
  const empty: SeriesQuery = {
    metric: 'parts_exited',
    grain: 'hour',
    from: start - 30 * DAY,
    to: start - 23 * DAY,
    where: { station: 'DIE' },
  };
  const latency = async (q: SeriesQuery) => {
    const xs: number[] = [];
    for (let i = 0; i < o.samples; i++) {
      const t0 = performance.now();
      await serving.series(q);
      xs.push(performance.now() - t0);
    }
    return { p50: percentile(xs, 50), p99: percentile(xs, 99) };
  };
  const servingLatencies = async (state: string) => {
    for (const [label, q] of [
      ['24 h, hourly, one station', lastDay],
      ['a year, daily, one station', year],
      ['a week with no data', empty],
    ] as const) {
      const l = await latency(q);
      o.figures.add('serving layer (in process)', `${label} — ${state}`, 'p50', 'ms', l.p50);
      o.figures.add('serving layer (in process)', `${label} — ${state}`, 'p99', 'ms', l.p99);
    }
  };

  // HTTP: one subgraph process, two gateway processes (dedup on / off), pgbench on the same rows.
  const env = {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    MILLRACE_SCHEMA: o.schema,
    MILLRACE_PREFIX: o.prefix,
    MILLRACE_PARTITIONS: String(o.partitions),
    MILLRACE_SLICE: String(o.slice),
  };
  const roles: Role[] = [];
  try {
    const subgraph = await startRole('subgraph:production', env);
    roles.push(subgraph);
    // The same subgraph with every question reading for itself (no shared reads): what sharing adds.
    const unshared = await startRole(
      'subgraph:production',
      { ...env, MILLRACE_SHARE_READS: 'off' },
      'subgraph (unshared)',
    );
    roles.push(unshared);
    // No rate limit: with authentication off every request is one client, and refused (429)
    // answers would count as served ones.
    const gwEnv = { ...env, SUBGRAPH_URLS: `production=${subgraph.url}`, MILLRACE_RATE_PER_MINUTE: '0' };
    // The response cache is on by default: the dedup variants measure without it, a third with it.
    const noCache = { ...gwEnv, MILLRACE_RESPONSE_CACHE: 'off' };
    const dedupOn = await startRole('gateway', { ...noCache, GATEWAY_DEDUP_INFLIGHT: 'true' }, 'gateway (dedup on)');
    roles.push(dedupOn);
    const dedupOff = await startRole('gateway', { ...noCache, GATEWAY_DEDUP_INFLIGHT: 'false' }, 'gateway (dedup off)');
    roles.push(dedupOff);
    const cacheOn = await startRole('gateway', { ...gwEnv, MILLRACE_RESPONSE_CACHE: 'on' }, 'gateway (cache on)');
    roles.push(cacheOn);
    const bodyOf = (station: string) =>
      JSON.stringify({
        query:
          'query Q($station: ID!, $from: DateTime!, $to: DateTime!) { productionSeries(metric: PARTS_EXITED, grain: HOUR, station: $station, from: $from, to: $to) { total points { bucket value } } }',
        variables: { station, from: new Date(lastDay.from).toISOString(), to: new Date(lastDay.to).toISOString() },
      });
    const body = bodyOf('DIE');
    // A dashboard's wall: every station's panel, each request one station at random.
    const bodies = STATIONS.map(bodyOf);
    const check = (await (
      await fetch(dedupOn.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    ).json()) as { data?: { productionSeries: { points: unknown[] } }; errors?: unknown };
    if (!check.data || check.data.productionSeries.points.length === 0)
      throw new Error(`the bench query answered no points: ${JSON.stringify(check).slice(0, 300)}`);
    // The ceiling: the subgraph's own answer, served as a constant by node:http and by Apollo Server.
    const answerFile = path.join(tmpdir(), `millrace-bench-${o.prefix}-answer.json`);
    const direct = await fetch(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await writeFile(answerFile, await direct.text());
    const floorHttp = await startFloor('http', answerFile);
    roles.push(floorHttp);
    const floorApollo = await startFloor('apollo', answerFile);
    roles.push(floorApollo);
    const floorCheck = await (
      await fetch(floorApollo.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    ).text();
    if (!floorCheck.includes('"points":[{')) throw new Error(`the Apollo floor answered ${floorCheck.slice(0, 300)}`);
    // The least a gateway adds: a proxy with nothing in it, in front of the same subgraph.
    const proxy = await startFloor('proxy', subgraph.url);
    roles.push(proxy);
    const sqlFile = path.join(tmpdir(), `millrace-bench-${o.prefix}.sql`);
    await writeFile(
      sqlFile,
      `SELECT bucket, dims, cells FROM ${s}.rollups WHERE metric = 'parts_exited' AND grain = 'hour' AND bucket >= ${lastDay.from} AND bucket < ${lastDay.to} AND dims[1] = 'DIE';\n`,
    );

    const http = async (url: string, connections: number, seconds = o.seconds, mix = false) => {
      const r = await autocannon({
        url,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        ...(mix && {
          requests: [
            {
              setupRequest: (req: Record<string, unknown>) => ({
                ...req,
                body: bodies[Math.floor(Math.random() * bodies.length)],
              }),
            },
          ],
        }),
      });
      if (r.errors + r.non2xx + r.timeouts > 0)
        o.log(`  ${url}: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts`);
      return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
    };
    const pgbench = async (connections: number) => {
      const { stdout } = await execFileP(
        'pgbench',
        [
          '-n',
          '-M',
          'prepared',
          '-c',
          String(connections),
          '-j',
          '2',
          '-T',
          String(o.seconds),
          '-f',
          sqlFile,
          '-r',
          o.databaseUrl,
        ],
        { maxBuffer: 1 << 22 },
      );
      const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
      const lat = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
      return { rps: tps, p50: lat, p99: NaN };
    };
    const variants: Array<[string, (c: number, s?: number) => Promise<{ rps: number; p50: number; p99: number }>]> = [
      ['pgbench, same rollup rows', pgbench],
      ['ceiling: node:http, constant answer', (c, sec) => http(floorHttp.url, c, sec)],
      ['ceiling: Apollo Server, constant answer', (c, sec) => http(floorApollo.url, c, sec)],
      ['subgraph direct', (c, sec) => http(subgraph.url, c, sec)],
      ['subgraph direct, reads not shared', (c, sec) => http(unshared.url, c, sec)],
      ['ceiling of a gateway: bare node:http proxy → subgraph', (c, sec) => http(proxy.url, c, sec)],
      ['gateway, dedup off', (c, sec) => http(dedupOff.url, c, sec)],
      ['gateway, dedup on', (c, sec) => http(dedupOn.url, c, sec)],
      // The data does not move during the run (nothing is loaded), so after the first request
      // every one is a hit: this is the cache's ceiling, a version read per request included.
      ['gateway, cache on', (c, sec) => http(cacheOn.url, c, sec)],
    ];
    // The same query for a station at random of STATIONS.length: concurrent requests are mostly
    // different questions, so the subgraph shares fewer reads and the cache holds one answer each.
    const mixed: typeof variants = [
      ['subgraph direct', (c, sec) => http(subgraph.url, c, sec, true)],
      ['subgraph direct, reads not shared', (c, sec) => http(unshared.url, c, sec, true)],
      ['gateway, dedup off', (c, sec) => http(dedupOff.url, c, sec, true)],
      ['gateway, cache on', (c, sec) => http(cacheOn.url, c, sec, true)],
    ];
    // Warm-up, not recorded: every HTTP target is a process of its own, and its first seconds
    // (JIT, pool connections) would otherwise count in whichever variant runs it first.
    for (const [label, fn] of variants) if (!label.startsWith('pgbench')) await fn(10, 2);
    for (let run = 0; run < o.runs; run++) {
      // Alternate the order between runs, so no variant always runs on a warmer (or hotter) machine.
      const order = run % 2 === 0 ? variants : [...variants].reverse();
      for (const c of o.connections) {
        for (const [label, fn] of order) {
          // pgbench at 100 clients would take most of Postgres' connections on a shared server.
          const r = await fn(label.startsWith('pgbench') ? Math.min(c, 20) : c);
          const v = `${label}, ${label.startsWith('pgbench') ? Math.min(c, 20) : c} conn.`;
          o.figures.add('24 h hourly per-station query', v, 'throughput', 'req/s', r.rps);
          o.figures.add(
            '24 h hourly per-station query',
            v,
            label.startsWith('pgbench') ? 'latency (avg)' : 'p99',
            'ms',
            label.startsWith('pgbench') ? r.p50 : r.p99,
          );
        }
      }
      for (const c of o.connections) {
        for (const [label, fn] of run % 2 === 0 ? mixed : [...mixed].reverse()) {
          const r = await fn(c);
          o.figures.add(MIXED, `${label}, ${c} conn.`, 'throughput', 'req/s', r.rps);
          o.figures.add(MIXED, `${label}, ${c} conn.`, 'p99', 'ms', r.p99);
        }
      }
      // The cache's own account of the run (its /metrics; authentication is off).
      const metrics = await (await fetch(cacheOn.url.replace(/graphql$/, 'metrics'))).text();
      const count = (name: string) => new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? '?';
      o.log(
        `  gateway (cache on): ${count('millrace_response_cache_hits_total')} hits, ${count('millrace_response_cache_misses_total')} misses`,
      );
      await servingLatencies('steady state');
      o.log(`queries: run ${run + 1}/${o.runs} done`);
      await o.checkpoint?.();
    }
  } finally {
    for (const r of roles.reverse()) await r.stop();
  }

  // The batch layer falls behind: backlog in the last day, applied to speed only.
  o.log(`queries: ${o.backlogEvents} events the batch layer has not folded`);
  const B = Math.floor(o.backlogEvents / o.partitions) * o.partitions;
  next = await seedRaw(o.pool, o.schema, { first: next, count: B, partitions: o.partitions, from: end - DAY, to: end });
  await settle(false);
  const lag = (
    await o.pool.query(
      `SELECT sum(l.next_offset - b.next_offset)::bigint AS lag FROM ${s}.loader_offsets l JOIN ${s}.batch_watermarks b USING (partition)`,
    )
  ).rows[0].lag;
  o.log(`queries: batch layer ${lag} events behind`);
  for (let run = 0; run < o.runs; run++)
    await servingLatencies(`batch ${Number(lag).toLocaleString('en-US')} events behind`);

  // Exactness: the served year, per day, equals a count over the raw rows.
  const served = await serving.series(year);
  const truth = await o.pool.query(
    `SELECT (event_time / ${DAY}) * ${DAY} AS day, count(*)::bigint AS n FROM ${s}.raw_events
      WHERE type = 'machining.exit' AND payload->>'station' = 'DIE' AND event_time >= $1 AND event_time < $2 GROUP BY 1`,
    [year.from, year.to],
  );
  const want = new Map(truth.rows.map((r) => [Number(r.day), Number(r.n)]));
  let mismatches = 0;
  for (const p of served.points) if (want.get(p.bucket) !== p.value) mismatches++;
  mismatches += Math.max(0, want.size - served.points.length);
  o.figures.add('exactness', 'served year vs raw SQL (batch + speed)', 'mismatched days', '', mismatches);
  if (mismatches > 0) throw new Error(`exactness: ${mismatches} days differ between serving and raw SQL`);
  await store.close();
}
