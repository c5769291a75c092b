/**
 * A child of the subscribers scenario (bench/scenarios/subscribers.ts): ONE role in a process of
 * its own, started with --expose-gc so its memory can be measured after a forced collection.
 *
 *   node --expose-gc --import tsx bench/subscribers-server.ts subgraph   # env DATABASE_URL, REDIS_URL, BENCH_SCHEMA, BENCH_PREFIX
 *   node --expose-gc --import tsx bench/subscribers-server.ts gateway    # env BENCH_SUBGRAPH (JSON: url, wsUrl, sdl)
 *   node --expose-gc --import tsx bench/subscribers-server.ts broadcast  # the ceiling: a bare `ws` server
 *
 * IPC: it sends `{ type: 'ready', ... }`; it answers `{ type: 'measure', gc }` with its heap, RSS,
 * CPU time, (subgraph) the shared delta reader's stats and (gateway, broadcast) its sockets;
 * `{ type: 'write', every, seconds, per }` (subgraph, broadcast) sends deltas at that pace and
 * answers how many; it exits on `{ type: 'close' }`.
 */
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
import { createRedisStore } from '../speed/redis-store.ts';
import { createServing } from '../serving/create-serving.ts';
import { allMetrics } from '../metrics/index.ts';
import { FIXTURE_CALENDAR } from '../serving/testing/fixture-serving.ts';
import { createSubgraphServer } from '../subgraphs/create-subgraph-server.ts';
import { createGateway } from '../gateway/create-gateway.ts';
import { createAuthenticator } from '../gateway/create-authenticator.ts';
import type { Serving } from '../serving/types.ts';

export const BENCH_SECRET = 'bench-subscribers-secret-0123456789abcdef';

const role = process.argv[2];
const send = (m: unknown) => process.send!(m);
let close: () => Promise<void>;
let serving: Serving | null = null;
let sockets: (() => unknown) | null = null;
/** The broadcast role's delivery: one message of a delta's shape to every subscriber. */
let broadcastOne: ((at: number) => void) | null = null;

if (role === 'subgraph') {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
  const store = createRedisStore({ url: process.env.REDIS_URL!, prefix: process.env.BENCH_PREFIX!, slice: 1000 });
  serving = createServing({
    pool,
    schema: process.env.BENCH_SCHEMA!,
    store,
    metrics: allMetrics,
    partitions: 1,
    slice: 1000,
  });
  const subgraph = await createSubgraphServer({ name: 'production', serving, calendar: FIXTURE_CALENDAR });
  close = async () => {
    await subgraph.close();
    await store.close();
    await pool.end();
  };
  send({ type: 'ready', url: subgraph.url, wsUrl: subgraph.wsUrl, sdl: subgraph.sdl });
} else if (role === 'gateway') {
  const sub = JSON.parse(process.env.BENCH_SUBGRAPH!) as { url: string; wsUrl: string; sdl: string };
  const gateway = await createGateway({
    port: 0,
    subgraphs: [{ name: 'production', ...sub }],
    health: async () => ({ ready: true, components: {} }),
    // One token for every client: the per-client rate limit would count them as one.
    security: { authenticator: createAuthenticator({ secret: BENCH_SECRET }, () => {}), rateLimit: { perMinute: 0 } },
    logging: false,
    log: (line) => process.stderr.write(`[gateway] ${line}\n`),
  });
  close = () => gateway.close();
  sockets = gateway.subscriptionStats;
  send({ type: 'ready', url: gateway.url });
} else if (role === 'broadcast') {
  // The least any server does to deliver: graphql-transport-ws reduced to its ack, its subscribe
  // (the id is kept) and ping; each delta one string, built once, with each subscriber's id.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  const subscribed = new Map<WebSocket, string>();
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; id?: string };
      if (m.type === 'connection_init') ws.send('{"type":"connection_ack"}');
      else if (m.type === 'subscribe') subscribed.set(ws, m.id!);
      else if (m.type === 'ping') ws.send('{"type":"pong"}');
    });
    ws.on('close', () => subscribed.delete(ws));
  });
  let cursor = 0;
  broadcastOne = (at) => {
    const items = Array.from({ length: 8 }, (_, k) => ({ station: `S${k}`, value: 1 }));
    const payload = JSON.stringify({
      data: { productionDeltas: { cursor: `0:${++cursor}`, appliedAt: new Date(at).toISOString(), items } },
    });
    for (const [ws, id] of subscribed) ws.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
  };
  sockets = () => ({ groups: 1, members: subscribed.size, sockets: wss.clients.size });
  close = () => new Promise<void>((resolve) => wss.close(() => resolve()));
  send({ type: 'ready', url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql` });
} else {
  throw new Error(`usage: subscribers-server.ts subgraph|gateway|broadcast (got ${role})`);
}

/** `one` every `every` ms for `seconds` (at least once); how many were sent, in how long. */
async function pace(every: number, seconds: number, one: (at: number) => Promise<void> | void) {
  let sent = 0;
  const start = Date.now();
  do {
    await one(Date.now());
    sent++;
    await new Promise((r) => setTimeout(r, Math.max(0, start + sent * every - Date.now())));
  } while (Date.now() - start < seconds * 1000);
  return { sent, seconds: (Date.now() - start) / 1000 };
}

/** Deltas as the speed layer appends them, `every` ms apart for `seconds` (the subgraph child: an idle process). */
function writeDeltas(store: ReturnType<typeof createRedisStore>, every: number, seconds: number, per: number) {
  return pace(every, seconds, async (at) => {
    const bucket = at - (at % 60_000);
    const items = Array.from({ length: 8 }, (_, k) => ['parts_exited', bucket, [`S${k}`], [1]]);
    const offset = offsetNow;
    offsetNow += per;
    const payload = { p: 0, from: offset, to: offset + per, at, maxEventTime: at, items };
    await store.apply({
      partition: 0,
      fromOffset: offset,
      toOffset: offset + per,
      initIfMissing: true,
      updates: [],
      delta: JSON.stringify(payload),
      appliedAt: at,
    });
  });
}
let offsetNow = 0;
let writer: ReturnType<typeof createRedisStore> | null = null;

process.on('message', async (m: { type: string; gc?: boolean; every?: number; seconds?: number; per?: number }) => {
  if (m.type === 'measure') {
    if (m.gc) {
      // Twice, with a turn between: finalizers of the first pass free more in the second.
      global.gc!();
      await new Promise((r) => setImmediate(r));
      global.gc!();
    }
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    send({
      type: 'measure',
      cpuMs: (cpu.user + cpu.system) / 1000,
      heapUsed: mem.heapUsed,
      rss: mem.rss,
      feed: serving?.deltaFeed?.() ?? null,
      ws: sockets?.() ?? null,
    });
  } else if (m.type === 'write' && broadcastOne) {
    send({ type: 'written', ...(await pace(m.every!, m.seconds!, broadcastOne)) });
  } else if (m.type === 'write') {
    writer ??= createRedisStore({ url: process.env.REDIS_URL!, prefix: process.env.BENCH_PREFIX!, slice: 1000 });
    send({ type: 'written', ...(await writeDeltas(writer, m.every!, m.seconds!, m.per!)) });
  } else if (m.type === 'close') {
    await writer?.close();
    await close();
    process.exit(0);
  }
});
