import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, type GatewayConfigBase, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import wsTransport from '@graphql-mesh/transport-ws';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { MillraceError } from '../lib/errors.ts';
import { composeSupergraph, type SubgraphEndpoint } from './compose-supergraph.ts';
import { createHttpRoutes, type HealthCheck, type RouteHandler } from './http-routes.ts';
import { serveGraphQLWs } from './serve-graphql-ws.ts';
import type { SlowConsumerOptions } from './slow-consumer-guard.ts';
import { useErrorCodes } from './use-error-codes.ts';
import { useGetParams } from './use-get-params.ts';
import { createSecurity, requireScope, type SecurityOptions } from './security.ts';
import { exampleQuery } from './example-query.ts';
import { useResponseCache, type ResponseCacheOptions } from './use-response-cache.ts';
import { readJsonBody } from './read-json-body.ts';
import { DEFAULT_MAX_BODY_BYTES } from './use-request-size.ts';

/** Options of the gateway. */
export interface GatewayOptions {
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port for HTTP and graphql-ws (both on /graphql); 0 picks a free one. */
  port: number;
  /** The subgraphs to compose and route to; `wsUrl` enables their subscriptions over graphql-ws. */
  subgraphs: SubgraphEndpoint[];
  /** Backs `GET /healthz` (200 when ready, else 503). */
  health: HealthCheck;
  /** Backs `GET /status`; without it /status is 404. */
  status?: () => Promise<unknown>;
  /** Extra node:http routes by path prefix (e.g. the dashboard). */
  routes?: Record<string, RouteHandler>;
  /** Authentication, scopes, limits, origins, introspection (gateway/security.ts). */
  security: SecurityOptions;
  /**
   * Identical requests in flight share one execution: identical client queries at the gateway
   * and identical subgraph fetches (a request may then get an answer read before it arrived).
   * Turn off for benchmarks that must measure every request. Default: on without the response
   * cache, off with it; true together with `responseCache` is refused (CONFIG).
   */
  deduplicateInflight?: boolean;
  /**
   * Response cache keyed by the data version (gateway/use-response-cache.ts); its hit and miss
   * counters go to `security.metricsRegistry` unless `registry` says otherwise. Default none (off).
   */
  responseCache?: ResponseCacheOptions;
  /** More `useX` plugins, after the built-in ones (auth, caching, …). Default none. */
  plugins?: GatewayPlugin[];
  /**
   * OpenTelemetry spans for each request (HTTP, parse, validate, plan, execute, every subgraph
   * fetch, with `traceparent` sent to the subgraph) into the provider `setupTracing`
   * (lib/tracing-setup.ts) registered. Default false.
   */
  tracing?: boolean;
  /** Hive Gateway runtime log level. Default 'warn'. */
  logging?: GatewayConfigBase<Record<string, unknown>>['logging'];
  /** Where gateway errors (masked originals, failed checks) are reported. Default console.error. */
  log?: (line: string) => void;
  /** graphql-ws clients that stop reading: how many bytes they may leave unsent (slow-consumer-guard.ts). */
  slowConsumer?: SlowConsumerOptions;
  /**
   * Identical graphql-ws subscriptions (same document, variables and scopes) share one execution,
   * one upstream subscription and one store reader (share-subscriptions.ts). Default true.
   */
  shareSubscriptions?: boolean;
}

export interface Gateway {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql (graphql-ws at the same path). */
  url: string;
  /** graphql-ws now: shared executions (groups), their subscribers (members), open sockets. */
  subscriptionStats(): { groups: number; members: number; sockets: number };
  close(): Promise<void>;
}

const PATH = '/graphql';

/**
 * The federation gateway: Hive Gateway runtime over a supergraph composed in process, on one
 * node:http server that also carries graphql-ws, /healthz, /status and extra routes.
 * Cross-cutting concerns are `useX` plugins (gateway/use-*.ts).
 */
export async function createGateway(opts: GatewayOptions): Promise<Gateway> {
  const log = opts.log ?? ((line: string) => console.error(`[gateway] ${line}`));
  const supergraph = composeSupergraph(opts.subgraphs);
  // A query that joins one already in flight (inbound) or whose subgraph request joins another's
  // (outbound) gets an answer read before it arrived; the response cache would then keep it under
  // the data version that query read, newer than the answer. With the cache, concurrent misses are
  // shared strictly instead: by the subgraphs' shared reads (lib/share-reads.ts).
  if (opts.responseCache && opts.deduplicateInflight === true)
    throw new MillraceError(
      'CONFIG',
      'GATEWAY_DEDUP_INFLIGHT=true cannot run with the response cache (MILLRACE_RESPONSE_CACHE=on): a query that ' +
        'joins one already in flight gets an answer read before it arrived, which the cache would keep under newer ' +
        'data. Leave GATEWAY_DEDUP_INFLIGHT unset (off while the cache is on), or turn the cache off.',
    );
  const dedupe = opts.deduplicateInflight ?? !opts.responseCache;

  const transportEntries: Record<string, { options: Record<string, unknown> }> = {
    '*.http': { options: { deduplicateInflightRequests: dedupe } },
  };
  for (const s of opts.subgraphs) {
    if (!s.wsUrl) continue;
    // Subscriptions to this subgraph over graphql-ws; its queries stay on HTTP. lazyCloseTimeout 0:
    // the default (3 s) leaves a timer that graphql-ws's client.dispose() does not clear, so the
    // process would linger 3 s after close(); an idle upstream socket is simply reopened.
    transportEntries[s.name] = {
      options: { subscriptions: { kind: 'ws', location: s.wsUrl, options: { lazyCloseTimeout: 0 } } },
    };
  }

  const security = createSecurity(opts.security);
  const { useOpenTelemetry } = opts.tracing
    ? await import('@graphql-hive/plugin-opentelemetry')
    : { useOpenTelemetry: null };
  const runtime = withoutSignalHandlers(() =>
    createGatewayRuntime({
      supergraph,
      transports: { http: httpTransport, ws: wsTransport },
      transportEntries,
      graphqlEndpoint: PATH,
      // Local assets only: the page inlines GraphiQL's JS and CSS, so it works with no network.
      renderGraphiQL,
      ...security.runtime,
      // GraphiQL opens on the daily floor summary (re-rendered per page load, so it names today).
      graphiql:
        security.runtime.graphiql &&
        (() => ({ ...(security.runtime.graphiql as object), title: 'millrace', defaultQuery: exampleQuery() })),
      landingPage: false,
      // Never attach originals and stacks, even with NODE_ENV=development.
      maskedErrors: { isDev: false },
      inboundInflightRequestDeduplication: dedupe,
      logging: opts.logging ?? 'warn',
      plugins: (ctx) => [
        ...(useOpenTelemetry ? [useOpenTelemetry({ ...ctx, traces: true })] : []),
        useGetParams(),
        ...security.plugins,
        useErrorCodes({ log }),
        // After authentication, limits and scope checks; a hit skips planning and the subgraphs.
        ...(opts.responseCache
          ? [useResponseCache({ registry: opts.security.metricsRegistry, ...opts.responseCache })]
          : []),
        ...(opts.plugins ?? []),
      ],
    }),
  );

  const routes = createHttpRoutes({
    health: opts.health,
    status: opts.status,
    routes: opts.routes,
    log,
    guard: (handler) => requireScope(opts.security.authenticator, 'ops:read', handler),
  });
  const maxBody = opts.security.requestSize?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    if (!routes(req, res)) readJsonBody(req, res, maxBody, () => void runtime(req, res));
  });

  try {
    // Load the supergraph before accepting anything: a subscribe that arrives earlier would meet
    // a runtime without a schema ("Expected null to be a GraphQL schema").
    await runtime.getSchema();
  } catch (err) {
    await runtime.dispose();
    throw err;
  }
  const ws = serveGraphQLWs(server, runtime, {
    path: PATH,
    allowedOrigins: opts.security.allowedOrigins,
    sharing:
      opts.shareSubscriptions === false
        ? undefined
        : {
            authenticator: opts.security.authenticator,
            // A joiner skips the pipeline, not the rate limit: it is charged one operation too.
            admit: (principal) => security.rateLimiter.take(principal.subject) === 0,
          },
    slowConsumer: {
      onSlowConsumer: (bytes) => log(`graphql-ws: closed a slow consumer (${bytes} bytes unsent)`),
      ...opts.slowConsumer,
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  }).catch(async (err: Error) => {
    await ws.close();
    await runtime.dispose();
    throw new MillraceError(
      'LISTEN_FAILED',
      `gateway: cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port}: ${err.message}`,
      { cause: err },
    );
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host && !['0.0.0.0', '::'].includes(opts.host) ? opts.host : '127.0.0.1';

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${PATH}`,
    subscriptionStats: ws.stats,
    close: () =>
      (closing ??= (async () => {
        await ws.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // Disposes the subgraph executors (their HTTP agents and upstream graphql-ws clients).
        await runtime.dispose();
      })()),
  };
}

/**
 * Runs `create` and removes the SIGINT/SIGTERM listeners it added. The runtime (its whatwg-node
 * server adapter, `disposeOnProcessTerminate`) registers listeners that dispose it on a signal;
 * any listener disables Node's default "exit on signal", so a process without its own handler
 * would ignore SIGTERM while its servers kept it alive. Shutdown is the owner's: call close().
 */
function withoutSignalHandlers<T>(create: () => T): T {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((sig) => [sig, new Set(process.listeners(sig))]));
  try {
    return create();
  } finally {
    for (const sig of signals) {
      for (const listener of process.listeners(sig)) {
        if (!before.get(sig)!.has(listener)) process.removeListener(sig, listener);
      }
    }
  }
}
