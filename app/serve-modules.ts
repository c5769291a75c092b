import { createSubgraphServer } from '../subgraphs/create-subgraph-server.ts';
import { createGateway } from '../gateway/create-gateway.ts';
import { createDashboardRoutes } from '../gateway/dashboard-routes.ts';
import { startFactory } from '../simulator/index.ts';
import { factorySettings } from './sources.ts';
import { parseShifts } from '../serving/calendar.ts';
import type { FactoryCalendar } from '../resolvers/context.ts';
import type { AlertThresholds, ConnectorHealth } from '../resolvers/alerts/alert-types.ts';
import type { SubgraphName } from '../subgraphs/registry.ts';
import type { Config } from './config.ts';
import { collectStatus } from './status.ts';
import { createPrometheusRoute } from './prometheus.ts';
import { securityFromConfig } from './security-config.ts';
import { requireScope } from '../gateway/security.ts';
import { Registry } from 'prom-client';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Ctx } from './ctx.ts';

/** Subgraph servers on their own ports (any free one inside `all`; SUBGRAPH_PORT when alone). */
export async function startSubgraphs(ctx: Ctx, names: readonly SubgraphName[]): Promise<void> {
  const alone = names.length === 1;
  const calendar = factoryCalendar(ctx.config);
  const personalConnectors = ctx.config.MILLRACE_PERSONAL_CONNECTORS.split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  ctx.subgraphUrls ??= [];
  for (const name of names) {
    const server = await createSubgraphServer({
      name,
      serving: ctx.serving!,
      calendar,
      personalConnectors,
      alertThresholds: alertThresholds(ctx.config),
      // Read at each evaluation: inside `all` the connectors start after the subgraphs.
      connectors: () => connectorHealth(ctx),
      alertEveryMs: ctx.config.MILLRACE_ALERT_EVERY_SEC * 1000,
      host: ctx.config.SUBGRAPH_HOST,
      port: alone ? ctx.config.SUBGRAPH_PORT : 0,
      log: (l) => ctx.log(`subgraph ${name}: ${l}`),
    });
    ctx.subgraphUrls.push({ name, url: server.url, wsUrl: server.wsUrl, sdl: server.sdl });
    ctx.services.push({ name: `subgraph:${name}`, stop: () => server.close() });
    if (alone) ctx.log(`subgraph ${name} at ${server.url}`);
  }
}

/** The alert rules' thresholds from the configuration. */
function alertThresholds(c: Config): AlertThresholds {
  return {
    zoneMaxC: c.MILLRACE_ALERT_ZONE_MAX_C,
    noExitMinutes: c.MILLRACE_ALERT_NO_EXIT_MIN,
    connectorLag: c.MILLRACE_ALERT_CONNECTOR_LAG,
    stallSeconds: c.MILLRACE_ALERT_STALL_SEC,
  };
}

/** The status of this process's connectors for the connector alert rule; null when it runs none. */
async function connectorHealth(ctx: Ctx): Promise<ConnectorHealth[] | null> {
  if (!ctx.connectors?.length) return null;
  // One connector whose status cannot be read fires as failing; it does not hide the others.
  const settled = await Promise.allSettled(ctx.connectors.map((k) => k.status()));
  return settled.map((r, i) =>
    r.status === 'fulfilled'
      ? r.value
      : {
          name: ctx.connectors![i].name,
          lag: null,
          lastCheckpointAt: null,
          lastError: `status unavailable: ${(r.reason as Error)?.message ?? String(r.reason)}`,
        },
  );
}

/** The factory's calendar from the configuration. */
export function factoryCalendar(c: Config): FactoryCalendar {
  return {
    zone: c.MILLRACE_TIME_ZONE,
    shifts: parseShifts(c.MILLRACE_SHIFTS),
    historyStart: Date.parse(c.MILLRACE_HISTORY_START),
    maxBuckets: 5000,
  };
}

/** Subgraphs started alone: SUBGRAPH_URLS lists them; their SDL comes from `_service { sdl }`. */
async function remoteSubgraphs(spec: string) {
  return Promise.all(
    spec.split(',').map(async (pair) => {
      const [name, url] = pair.split('=').map((s) => s.trim());
      if (!name || !url) throw new Error(`SUBGRAPH_URLS entry ${JSON.stringify(pair)} is not name=url`);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ _service { sdl } }' }),
      });
      const body = (await res.json()) as { data?: { _service?: { sdl?: string } } };
      const sdl = body.data?._service?.sdl;
      if (!sdl) throw new Error(`subgraph ${name} at ${url} did not return its SDL`);
      return { name, url, wsUrl: url.replace(/^http/, 'ws'), sdl };
    }),
  );
}

/** Connectors that fail for longer than their stall limit, with why: `/healthz` reports them as degraded. */
async function stalledConnectors(ctx: Ctx): Promise<Array<{ component: string; reason: string }>> {
  const settled = await Promise.allSettled((ctx.connectors ?? []).map((k) => k.status()));
  return settled.flatMap((r, i) => {
    const component = `connector:${ctx.connectors![i].name}`;
    if (r.status === 'rejected')
      return [{ component, reason: `status unavailable: ${(r.reason as Error)?.message ?? String(r.reason)}` }];
    return r.value.state === 'stalled'
      ? [{ component, reason: `stalled since ${new Date(r.value.failingSince!).toISOString()}: ${r.value.lastError}` }]
      : [];
  });
}

export async function startGatewayModule(ctx: Ctx): Promise<void> {
  const c = ctx.config;
  const subgraphs = ctx.subgraphUrls?.length
    ? ctx.subgraphUrls
    : c.SUBGRAPH_URLS
      ? await remoteSubgraphs(c.SUBGRAPH_URLS)
      : null;
  if (!subgraphs) throw new Error('the gateway needs subgraphs: run it inside `all`, or set SUBGRAPH_URLS');
  const registry = new Registry();
  const { security, devToken, authOff } = await securityFromConfig(c, ctx.log, registry);
  const gateway = await createGateway({
    host: c.HOST,
    port: c.PORT,
    subgraphs,
    deduplicateInflight: c.GATEWAY_DEDUP_INFLIGHT,
    responseCache:
      c.MILLRACE_RESPONSE_CACHE === 'on' && ctx.serving
        ? {
            dataVersion: () => ctx.serving!.dataVersion(),
            maxEntries: c.MILLRACE_RESPONSE_CACHE_MAX,
            ttlMs: c.MILLRACE_RESPONSE_CACHE_TTL_SEC * 1000,
          }
        : undefined,
    tracing: Boolean(c.MILLRACE_OTEL_ENDPOINT),
    security,
    health: async () => {
      const components: Record<string, unknown> = Object.fromEntries(ctx.ready);
      // Loud on purpose: a probe or a person looking at /healthz sees that nothing is protected.
      if (authOff) components.auth = 'OFF (MILLRACE_AUTH=off): every request has every scope';
      return {
        ready: [...ctx.ready.entries()].every(([m, ok]) => ok || m === 'gateway'),
        components,
        degraded: await stalledConnectors(ctx),
      };
    },
    status: () => collectStatus(ctx),
    routes: {
      '/metrics': requireScope(
        security.authenticator,
        'ops:read',
        createPrometheusRoute(() => collectStatus(ctx), registry),
      ),
      // The dashboard's files are public; every figure it shows comes through GraphQL and /status
      // with the signed-in token.
      ...createDashboardRoutes(),
    },
    log: (l) => ctx.log(`gateway: ${l}`),
  });
  ctx.services.push({ name: 'gateway', stop: () => gateway.close() });
  if (devToken) {
    // The CLI (status, verify) of this data dir reads it from runtime.json (mode 0600 like the secret).
    const file = path.join(path.resolve(c.MILLRACE_DATA_DIR), 'runtime.json');
    const info = JSON.parse(await readFile(file, 'utf8').catch(() => '{}'));
    await writeFile(file, JSON.stringify({ ...info, devToken }, null, 2), { mode: 0o600 });
    await chmod(file, 0o600);
    ctx.log(`development token (every scope, 30 days; GraphiQL sends it): ${devToken}`);
  }
}

/** The MyCPU factory (MILLRACE_SIMULATOR=on): started through the simulator's one entry point. */
export async function startSimulator(ctx: Ctx): Promise<void> {
  const c = ctx.config;
  if (c.MILLRACE_SIMULATOR === 'off') return;
  const factory = await startFactory(factorySettings(c, ctx.databaseUrl!), {
    pool: ctx.pool!,
    openTopic: ctx.topics!.open,
    log: (l) => ctx.log(`simulator: ${l}`),
  });
  ctx.services.push({ name: 'simulator', stop: () => factory.stop() });
}
