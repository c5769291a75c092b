import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { leanSubscriber, type LeanSubscriber } from '../lean-subscriber.ts';
import { migrate } from '../../store/migrate.ts';
import { signDevToken } from '../../gateway/create-authenticator.ts';
import { percentile, type Figures } from '../stats.ts';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'subscribers-server.ts');
const BENCH_SECRET = 'bench-subscribers-secret-0123456789abcdef';
const QUERY = 'subscription { productionDeltas(metrics: [PARTS_EXITED]) { cursor appliedAt items { station value } } }';
const SCENARIO = 'graphql-ws subscribers, one gateway process';

export interface SubscribersScenarioOptions {
  pool: pg.Pool;
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  prefix: string;
  /** Concurrent subscribers per variant, e.g. [1000, 10000]. */
  sizes: number[];
  /** Delivery phase per variant, s. */
  seconds: number;
  /** Events per second the deltas stand for, and events per delta (one delta per speed-layer batch). */
  eventsPerSec: number;
  eventsPerDelta: number;
  runs: number;
  figures: Figures;
  log: (line: string) => void;
}

interface Measure {
  cpuMs: number;
  heapUsed: number;
  rss: number;
  feed: { subscribers: number; joined: number; readers: number } | null;
  ws: { groups: number; members: number; sockets: number } | null;
}

/** A role in a child process (bench/subscribers-server.ts) with --expose-gc, measured over IPC. */
async function startChild(role: string, env: Record<string, string>) {
  const proc: ChildProcess = fork(SERVER, [role], {
    execArgv: ['--expose-gc', '--import', 'tsx', ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as Record<string, string>));
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
  const ask = <T>(msg: Record<string, unknown>) =>
    new Promise<T>((resolve) => {
      proc.once('message', (m) => resolve(m as T));
      proc.send(msg);
    });
  const measure = (gc: boolean) => ask<Measure>({ type: 'measure', gc });
  const stop = () =>
    new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.send({ type: 'close' });
    });
  return { ready, measure, ask, stop };
}

/**
 * N graphql-ws clients hold the same subscription through one gateway process (the production
 * subgraph in another); deltas are written to Redis as the speed layer does. Measured: KiB per
 * subscriber in the gateway (heap and RSS after a forced GC, minus before), delivery latency (the
 * delta's `appliedAt` → the client has it; clients and writer share one clock and one 2-core
 * machine), and the gateway's heap after every client left vs before they came.
 */
export async function runSubscribersScenario(o: SubscribersScenarioOptions): Promise<void> {
  await migrate(o.pool, o.schema, 1);
  const env = { DATABASE_URL: o.databaseUrl, REDIS_URL: o.redisUrl, BENCH_SCHEMA: o.schema, BENCH_PREFIX: o.prefix };
  const subgraph = await startChild('subgraph', env);
  const gateway = await startChild('gateway', { BENCH_SUBGRAPH: JSON.stringify(subgraph.ready) });
  const token = signDevToken({ secret: BENCH_SECRET, subject: 'bench' });
  // One delta now (the subgraph's process writes them all, so their offsets follow each other).
  const write = () => subgraph.ask({ type: 'write', every: 0, seconds: 0, per: o.eventsPerDelta });

  try {
    for (let run = 0; run < o.runs; run++) {
      for (const n of run % 2 ? [...o.sizes].reverse() : o.sizes) {
        const variant = `${n.toLocaleString('en-US')} subscribers`;
        const before = await gateway.measure(true);
        const received = new Int32Array(n);
        const latencies: number[] = [];
        let measuring = false;
        let failures = 0;
        const clients: LeanSubscriber[] = [];
        const t0 = Date.now();
        const url = gateway.ready.url.replace(/^http/, 'ws');
        for (let i = 0; i < n; i += 250) {
          const batch = Array.from({ length: Math.min(250, n - i) }, (_, k) => i + k);
          await Promise.all(
            batch.map((idx) => {
              const c = leanSubscriber(url, { authorization: `Bearer ${token}` }, QUERY, {
                next: (appliedAt) => {
                  received[idx]++;
                  if (measuring) latencies.push(Date.now() - appliedAt);
                },
                error: (why) => {
                  failures++;
                  if (failures <= 3) o.log(`${variant}: subscriber ${idx}: ${why}`);
                },
              });
              clients.push(c);
              return c.ready;
            }),
          );
        }
        // Every subscription is live when each client has had a delta (whatever is shared upstream).
        for (let i = 0; received.some((r) => r === 0); i++) {
          if (i > 600) throw new Error(`only ${received.filter((r) => r > 0).length} of ${n} subscribed`);
          await write();
          await new Promise((r) => setTimeout(r, 100));
        }
        o.log(`${variant}: connected and subscribed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const loaded = await gateway.measure(true);
        const sub = await subgraph.measure(false);

        // Delivery at eventsPerSec: one delta every eventsPerDelta / eventsPerSec seconds.
        const every = (1000 * o.eventsPerDelta) / o.eventsPerSec;
        const baseline = Array.from(received);
        measuring = true;
        // Written by the subgraph's process (idle but for its one upstream subscription): this one is busy with the clients.
        const cpu0 = { gw: (await gateway.measure(false)).cpuMs, me: process.cpuUsage() };
        const { sent, seconds: elapsed } = await subgraph.ask<{ sent: number; seconds: number }>({
          type: 'write',
          every,
          seconds: o.seconds,
          per: o.eventsPerDelta,
        });
        const gwCpu = ((await gateway.measure(false)).cpuMs - cpu0.gw) / 10 / elapsed;
        const me = process.cpuUsage(cpu0.me);
        const clientCpu = (me.user + me.system) / 1e4 / elapsed;
        const drainStart = Date.now();
        while (received.some((r, i) => r - baseline[i] < sent) && Date.now() - drainStart < 30_000) {
          await new Promise((r) => setTimeout(r, 50));
        }
        measuring = false;
        const missing = received.reduce((s, r, i) => s + Math.max(0, sent - (r - baseline[i])), 0);

        for (const c of clients) c.close();
        for (let i = 0; ; i++) {
          const m = await subgraph.measure(false);
          if (m.feed?.subscribers === 0) break;
          if (i > 300) throw new Error(`subgraph still holds ${JSON.stringify(m.feed)} after the clients left`);
          await new Promise((r) => setTimeout(r, 100));
        }
        for (let i = 0; ; i++) {
          const m = await gateway.measure(false);
          if (m.ws?.sockets === 0 && m.ws.members === 0) break;
          if (i > 600) throw new Error(`gateway still holds ${JSON.stringify(m.ws)} after the clients left`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const after = await gateway.measure(true);

        const kib = (b: number) => b / 1024;
        o.figures.add(SCENARIO, variant, 'heap per subscriber', 'KiB', kib((loaded.heapUsed - before.heapUsed) / n));
        o.figures.add(SCENARIO, variant, 'RSS per subscriber', 'KiB', kib((loaded.rss - before.rss) / n));
        o.figures.add(SCENARIO, variant, 'delivery p50', 'ms', percentile(latencies, 50));
        o.figures.add(SCENARIO, variant, 'delivery p99', 'ms', percentile(latencies, 99));
        o.figures.add(SCENARIO, variant, 'events/s delivered', 'ev/s', (sent * o.eventsPerDelta) / elapsed);
        o.figures.add(SCENARIO, variant, 'gateway CPU while delivering', '% of a core', gwCpu);
        o.figures.add(
          SCENARIO,
          variant,
          'heap after they left / before',
          '%',
          (100 * after.heapUsed) / before.heapUsed,
        );
        o.log(
          `${variant}: gateway heap ${mib(before.heapUsed)} → ${mib(loaded.heapUsed)} → ${mib(after.heapUsed)} MiB, ` +
            `RSS ${mib(before.rss)} → ${mib(loaded.rss)} → ${mib(after.rss)} MiB; subgraph heap ${mib(sub.heapUsed)} MiB, ` +
            `feed ${JSON.stringify(sub.feed)}; ${sent} deltas (${(sent / elapsed).toFixed(1)}/s), ` +
            `p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms; missing ${missing}, errors ${failures}; ` +
            `CPU while delivering: gateway ${gwCpu.toFixed(0)} %, clients (this process) ${clientCpu.toFixed(0)} %`,
        );
        if (missing > 0 || failures > 0) throw new Error(`${variant}: ${missing} deltas missing, ${failures} errors`);
      }
    }
  } finally {
    await gateway.stop();
    await subgraph.stop();
  }
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0);
