import { createSubgraphServer } from '../subgraphs/create-subgraph-server.ts';
import { createGateway } from '../gateway/create-gateway.ts';
import { createDashboardRoutes } from '../gateway/dashboard-routes.ts';
import { loadFloorMap } from '../simulator/floor.ts';
import { parseShifts } from '../serving/calendar.ts';
import type { FactoryCalendar } from '../resolvers/context.ts';
import type { SubgraphName } from '../subgraphs/registry.ts';
import type { Config } from './config.ts';
import { createMachiningSimulator } from '../simulator/machining.ts';
import { createLedger } from '../simulator/ledger.ts';
import { createFactory } from '../simulator/factory.ts';
import { createWriters, liveSeals } from './sources.ts';
import { collectStatus } from './status.ts';
import { createPrometheusRoute } from './prometheus.ts';
import type { Ctx } from './modules.ts';

/** Subgraph servers on their own ports (any free one inside `all`; SUBGRAPH_PORT when alone). */
export async function startSubgraphs(ctx: Ctx, names: readonly SubgraphName[]): Promise<void> {
  const alone = names.length === 1;
  const calendar = factoryCalendar(ctx.config);
  const personalConnectors = ctx.config.MILLRACE_PERSONAL_CONNECTORS.split(',').map((x) => x.trim()).filter(Boolean);
  ctx.subgraphUrls ??= [];
  for (const name of names) {
    const server = await createSubgraphServer({
      name, serving: ctx.serving!, calendar, personalConnectors, host: ctx.config.HOST, port: alone ? ctx.config.SUBGRAPH_PORT : 0,
      log: (l) => ctx.log(`subgraph ${name}: ${l}`),
    });
    ctx.subgraphUrls.push({ name, url: server.url, wsUrl: server.wsUrl, sdl: server.sdl });
    ctx.services.push({ name: `subgraph:${name}`, stop: () => server.close() });
    if (alone) ctx.log(`subgraph ${name} at ${server.url}`);
  }
}

/** The factory's calendar from the configuration. */
export function factoryCalendar(c: Config): FactoryCalendar {
  return { zone: c.MILLRACE_TIME_ZONE, shifts: parseShifts(c.MILLRACE_SHIFTS), historyStart: Date.parse(c.MILLRACE_HISTORY_START), maxBuckets: 5000 };
}

/** Subgraphs started alone: SUBGRAPH_URLS lists them; their SDL comes from `_service { sdl }`. */
async function remoteSubgraphs(spec: string) {
  return Promise.all(
    spec.split(',').map(async (pair) => {
      const [name, url] = pair.split('=').map((s) => s.trim());
      if (!name || !url) throw new Error(`SUBGRAPH_URLS entry ${JSON.stringify(pair)} is not name=url`);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ _service { sdl } }' }) });
      const body = (await res.json()) as { data?: { _service?: { sdl?: string } } };
      const sdl = body.data?._service?.sdl;
      if (!sdl) throw new Error(`subgraph ${name} at ${url} did not return its SDL`);
      return { name, url, wsUrl: url.replace(/^http/, 'ws'), sdl };
    }),
  );
}

export async function startGatewayModule(ctx: Ctx): Promise<void> {
  const c = ctx.config;
  const subgraphs = ctx.subgraphUrls?.length ? ctx.subgraphUrls : c.SUBGRAPH_URLS ? await remoteSubgraphs(c.SUBGRAPH_URLS) : null;
  if (!subgraphs) throw new Error('the gateway needs subgraphs: run it inside `all`, or set SUBGRAPH_URLS');
  const gateway = await createGateway({
    host: c.HOST,
    port: c.PORT,
    subgraphs,
    health: async () => {
      const components = Object.fromEntries(ctx.ready);
      return { ready: [...ctx.ready.entries()].every(([m, ok]) => ok || m === 'gateway'), components };
    },
    status: () => collectStatus(ctx),
    routes: {
      '/metrics': createPrometheusRoute(() => collectStatus(ctx)),
      ...createDashboardRoutes({
        alerts: { zoneMaxC: c.MILLRACE_ALERT_ZONE_MAX_C, noExitMinutes: c.MILLRACE_ALERT_NO_EXIT_MIN, connectorLag: c.MILLRACE_ALERT_CONNECTOR_LAG, stallSeconds: c.MILLRACE_ALERT_STALL_SEC },
      }),
    },
    log: (l) => ctx.log(`gateway: ${l}`),
  });
  ctx.services.push({ name: 'gateway', stop: () => gateway.close() });
}

/** The MyCPU factory: every source written live by one clock, with its ground-truth ledger. */
export async function startSimulator(ctx: Ctx): Promise<void> {
  const c = ctx.config;
  if (c.MILLRACE_SIMULATOR === 'off') return;
  const topic = ctx.topics!.open(c.MACHINING_TOPIC, c.MACHINING_PARTITIONS);
  await topic.ensure();
  const ledger = createLedger({ pool: ctx.pool!, schema: c.LEDGER_SCHEMA });
  await ledger.ensure();
  // Time can run faster than the wall clock (demos, tests): simulated = start + elapsed × speed.
  const t0 = Date.now();
  const now = () => t0 + (Date.now() - t0) * c.MILLRACE_SIM_SPEED;
  const floor = loadFloorMap();
  // Sources with history start before t0, but not before what an earlier run already sealed.
  const seals = await liveSeals(ctx.pool!, c.LEDGER_SCHEMA);
  const { writers, archive } = createWriters(c, {
    pool: ctx.pool!, databaseUrl: ctx.databaseUrl!, openTopic: ctx.topics!.open, floor, startTime: t0, seals, log: (l) => ctx.log(`simulator: ${l}`),
  });
  const sim = createMachiningSimulator({
    topic, ledger, seed: c.MILLRACE_SIM_SEED, ratePerSec: c.MILLRACE_SIM_RATE / c.MILLRACE_SIM_SPEED, startTime: t0, floor,
    // The SQL machining archive receives a copy of every acknowledged event (the loader dedups them).
    onPublished: (events) => archive.archive(events),
  });
  const factory = createFactory({
    writers, machining: sim, now, startTime: t0,
    onError: (err) => ctx.log(`simulator: ${(err as Error).message} (will retry)`),
  });
  factory.start();
  // A clean stop lets every writer send what it held back (late events, duplicates) and seal.
  ctx.services.push({ name: 'simulator', stop: async () => { await factory.stop(); await topic.close(); } });
}
