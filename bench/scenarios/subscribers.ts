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
 * machine), and the gateway's heap after every client left vs before they came. Alternated with
 * it, the same clients at the same rate on a bare `ws` server that sends each of them a prebuilt
 * message of the same shape (bench/subscribers-server.ts `broadcast`): the delivery this machine
 * gives with no GraphQL, no store and no gateway at all. (The subgraph's process writes every
 * delta, so their offsets follow each other.)
 */
export async function runSubscribersScenario(o: SubscribersScenarioOptions): Promise<void> {
  await migrate(o.pool, o.schema, 1);
  const env = { DATABASE_URL: o.databaseUrl, REDIS_URL: o.redisUrl, BENCH_SCHEMA: o.schema, BENCH_PREFIX: o.prefix };
  const subgraph = await startChild('subgraph', env);
  const gateway = await startChild('gateway', { BENCH_SUBGRAPH: JSON.stringify(subgraph.ready) });
  const token = signDevToken({ secret: BENCH_SECRET, subject: 'bench' });
  // The ceiling of delivery here: the same clients, sockets and rate, from a bare `ws` server.

  const broadcast = await startChild('broadcast', {});
  const every = (1000 * o.eventsPerDelta) / o.eventsPerSec;

  /**
   * N lean subscribers on `url`, live once each has had a message (`writeOne` sends one), then
   * deliveries at eventsPerSec (one message every eventsPerDelta / eventsPerSec s, written by
   * `target`'s writer), drained and closed. `subscribed` runs once every client is live.
   */
  const deliver = async (
    variant: string,
    n: number,
    target: Awaited<ReturnType<typeof startChild>>,
    writer: Awaited<ReturnType<typeof startChild>>,
    subscribed: () => Promise<void> = async () => {},
  ) => {
    const received = new Int32Array(n);
    const latencies: number[] = [];
    let measuring = false;
    let failures = 0;
    const clients: LeanSubscriber[] = [];
    const t0 = Date.now();
    const url = target.ready.url.replace(/^http/, 'ws');
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
    // Every subscription is live when each client has had a message (whatever is shared upstream).
    for (let i = 0; received.some((r) => r === 0); i++) {
      if (i > 600) throw new Error(`only ${received.filter((r) => r > 0).length} of ${n} subscribed`);
      await writer.ask({ type: 'write', every: 0, seconds: 0, per: o.eventsPerDelta });
      await new Promise((r) => setTimeout(r, 100));
    }
    o.log(`${variant}: connected and subscribed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await subscribed();

    const baseline = Array.from(received);
    measuring = true;
    // Written by an idle process (the subgraph's, but for its one upstream subscription; or the
    // broadcast's own): this one is busy with the clients.
    const cpu0 = { target: (await target.measure(false)).cpuMs, me: process.cpuUsage() };
    const { sent, seconds: elapsed } = await writer.ask<{ sent: number; seconds: number }>({
      type: 'write',
      every,
      seconds: o.seconds,
      per: o.eventsPerDelta,
    });
    const drainStart = Date.now();
    while (received.some((r, i) => r - baseline[i] < sent) && Date.now() - drainStart < 30_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    measuring = false;
    // CPU per message delivered, once all are in: a share of a core over the writes' seconds would
    // miss what a server still had queued then (and its answer to `measure` waits behind that queue).
    const messages = sent * n;
    const cpu = (1000 * ((await target.measure(false)).cpuMs - cpu0.target)) / messages;
    const me = process.cpuUsage(cpu0.me);
    const clientCpu = (me.user + me.system) / messages;
    const missing = received.reduce((s, r, i) => s + Math.max(0, sent - (r - baseline[i])), 0);
    for (const c of clients) c.close();
    o.figures.add(SCENARIO, variant, 'delivery p50', 'ms', percentile(latencies, 50));
    o.figures.add(SCENARIO, variant, 'delivery p99', 'ms', percentile(latencies, 99));
    o.figures.add(SCENARIO, variant, 'events/s delivered', 'ev/s', (sent * o.eventsPerDelta) / elapsed);
    o.figures.add(SCENARIO, variant, 'server CPU per message', 'µs', cpu);
    const summary =
      `${sent} messages (${(sent / elapsed).toFixed(1)}/s), p50 ${percentile(latencies, 50)} ms, ` +
      `p99 ${percentile(latencies, 99)} ms; missing ${missing}, errors ${failures}; ` +
      `CPU per message: server ${cpu.toFixed(1)} µs, clients (this process) ${clientCpu.toFixed(1)} µs`;
    if (missing > 0 || failures > 0) throw new Error(`${variant}: ${missing} messages missing, ${failures} errors`);
    // Every client gone from the server before the next variant.
    for (let i = 0; ; i++) {
      const m = await target.measure(false);
      if (m.ws?.sockets === 0 && m.ws.members === 0) break;
      if (i > 600) throw new Error(`${variant}: the server still holds ${JSON.stringify(m.ws)} after the clients left`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return summary;
  };

  try {
    for (let run = 0; run < o.runs; run++) {
      for (const n of run % 2 ? [...o.sizes].reverse() : o.sizes) {
        const size = `${n.toLocaleString('en-US')} subscribers`;
        // The ceiling first on even runs, last on odd ones.
        const ceiling = async () => {
          const variant = `ceiling: bare ws broadcast, ${size}`;
          o.log(`${variant}: ${await deliver(variant, n, broadcast, broadcast)}`);
        };
        if (run % 2 === 0) await ceiling();
        const variant = size;
        const before = await gateway.measure(true);
        let loaded!: Measure;
        let sub!: Measure;
        const summary = await deliver(variant, n, gateway, subgraph, async () => {
          loaded = await gateway.measure(true);
          sub = await subgraph.measure(false);
        });
        for (let i = 0; ; i++) {
          const m = await subgraph.measure(false);
          if (m.feed?.subscribers === 0) break;
          if (i > 300) throw new Error(`subgraph still holds ${JSON.stringify(m.feed)} after the clients left`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const after = await gateway.measure(true);

        const kib = (b: number) => b / 1024;
        o.figures.add(SCENARIO, variant, 'heap per subscriber', 'KiB', kib((loaded.heapUsed - before.heapUsed) / n));
        o.figures.add(SCENARIO, variant, 'RSS per subscriber', 'KiB', kib((loaded.rss - before.rss) / n));
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
            `feed ${JSON.stringify(sub.feed)}; ${summary}`,
        );
        if (run % 2 === 1) await ceiling();
      }
    }
  } finally {
    await broadcast.stop();
    await gateway.stop();
    await subgraph.stop();
  }
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0);
