import { pathToFileURL } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  createFixtureServing,
  FIXTURE_CALENDAR,
  FIXTURE_ENTITIES,
  type FixturePairing,
  type FixtureRow,
  type FixtureServing,
} from '../../serving/testing/fixture-serving.ts';
import type { FactoryCalendar } from '../../serving/calendar.ts';
import type { EntityRow } from '../../serving/types.ts';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../subgraphs/registry.ts';
import {
  createSubgraphServer,
  type SubgraphServer,
  type SubgraphServerOptions,
} from '../../subgraphs/create-subgraph-server.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../create-gateway.ts';
import type { SecurityOptions } from '../security.ts';
import { ALL_SCOPES, createAuthenticator, signDevToken } from '../create-authenticator.ts';

/** The HS256 secret of fixture stacks (tests sign their own tokens with it). */
export const FIXTURE_SECRET = 'fixture-secret-0123456789abcdef0123456789';
/** A fixture token: every scope unless `scopes` says otherwise. */
export const fixtureToken = (scopes: string[] = ALL_SCOPES, ttlSec?: number) =>
  signDevToken({ secret: FIXTURE_SECRET, subject: 'fixture', scopes, ttlSec });
/** Request headers with a fixture token of every scope. */
export const AUTH = { authorization: `Bearer ${fixtureToken()}` } as const;

export interface FixtureStack {
  serving: FixtureServing;
  /** Headers with a token of every scope, for requests to the gateway. */
  headers: Record<string, string>;
  production: SubgraphServer;
  quality: SubgraphServer;
  /** Every subgraph by name (production, quality, energy, workforce). */
  subgraphs: Record<SubgraphName, SubgraphServer>;
  gateway: Gateway;
  /** What /healthz reports; starts not ready. */
  setReady(ready: boolean): void;
  /** Lines logged by the subgraphs and the gateway (masked originals land here, not with clients). */
  logs: string[];
  close(): Promise<void>;
}

/** What the fixture serves besides its metric rows. */
export interface FixtureStackOptions {
  /** Current-state entities. Default FIXTURE_ENTITIES (three stations, one tool). */
  entities?: EntityRow[];
  /** Open pairings (tools out now). Default none. */
  pairings?: FixturePairing[];
  /** The factory calendar of the subgraphs. Default FIXTURE_CALENDAR (UTC). */
  calendar?: FactoryCalendar;
  /** `asOf` of the fixture's freshness. Default 2026-11-22T08:00Z. */
  freshnessAsOf?: number;
  /** The subgraphs' alert options (thresholds, connectors, evaluation interval). Default the subgraph defaults. */
  alerts?: Pick<SubgraphServerOptions, 'alertThresholds' | 'connectors' | 'alertEveryMs'>;
}

/**
 * The real subgraph servers and the real gateway over a fixture `Serving` (tests, and the
 * child process of the exit test). Everything listens on 127.0.0.1 with free ports.
 */
export async function startFixtureStack(
  rows: FixtureRow[] = [],
  gatewayOptions: Partial<Omit<GatewayOptions, 'security'>> & { security?: Partial<SecurityOptions> } = {},
  opts: FixtureStackOptions = {},
): Promise<FixtureStack> {
  const serving = createFixtureServing(
    rows,
    opts.freshnessAsOf,
    opts.entities ?? FIXTURE_ENTITIES,
    opts.pairings ?? [],
  );
  const calendar = opts.calendar ?? FIXTURE_CALENDAR;
  const logs: string[] = [];
  const log = (line: string) => void logs.push(line);
  const servers = await Promise.all(
    SUBGRAPH_NAMES.map((name) =>
      createSubgraphServer({ name, serving, calendar, personalConnectors: ['clockin'], log, ...opts.alerts }),
    ),
  );
  const subgraphs = Object.fromEntries(SUBGRAPH_NAMES.map((n, i) => [n, servers[i]])) as Record<
    SubgraphName,
    SubgraphServer
  >;
  const { production, quality } = subgraphs;
  let ready = false;
  const gateway = await createGateway({
    port: 0,
    subgraphs: SUBGRAPH_NAMES.map((name) => ({
      name,
      url: subgraphs[name].url,
      wsUrl: subgraphs[name].wsUrl,
      sdl: subgraphs[name].sdl,
    })),
    health: async () => ({ ready, components: { serving: ready ? 'up' : 'starting' } }),
    status: async () => ({ subgraphs: 2 }),
    log,
    logging: false,
    ...gatewayOptions,
    security: { authenticator: createAuthenticator({ secret: FIXTURE_SECRET }, log), ...gatewayOptions.security },
  });
  return {
    serving,
    production,
    quality,
    subgraphs,
    gateway,
    logs,
    headers: { ...AUTH },
    setReady: (r) => void (ready = r),
    async close() {
      await gateway.close();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/** A promise's value, or a failure naming `what` after `ms` (a deadline, not a sleep). */
export async function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)),
  );
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** One subscription round trip through the gateway, so upstream graphql-ws clients exist and were released. */
export async function exerciseSubscription(stack: FixtureStack): Promise<void> {
  const client = createClient({
    url: stack.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { ...AUTH },
  });
  const it = client.iterate({ query: 'subscription { productionDeltas { cursor } }' });
  const first = it.next();
  await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
  stack.serving.push([]);
  await first;
  await it.return?.();
  await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
  await client.dispose();
}

// As a child process (gateway/create-gateway.test.ts): start, run one subscription, print READY;
// on SIGTERM either close (--close-on-sigterm) and let the event loop drain, or nothing special.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stack = await startFixtureStack();
  await exerciseSubscription(stack);
  if (process.argv.includes('--close-on-sigterm')) {
    process.once('SIGTERM', () => void stack.close().then(() => console.log('CLOSED')));
  }
  console.log(`READY ${stack.gateway.url}`);
}
