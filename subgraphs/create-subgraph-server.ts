import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { parse, type GraphQLSchema } from 'graphql';
import { ApolloServer, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Serving } from '../serving/types.ts';
import { MillraceError } from '../lib/errors.ts';
import { tracedRequest } from '../lib/tracing.ts';
import type { FactoryCalendar, ResolverContext } from '../resolvers/context.ts';
import { createLoaders } from '../resolvers/shared/loaders.ts';
import { createAlertEngine } from '../resolvers/alerts/create-alert-engine.ts';
import {
  DEFAULT_ALERT_THRESHOLDS,
  type AlertThresholds,
  type ConnectorHealth,
} from '../resolvers/alerts/alert-types.ts';
import { SUBGRAPHS, type SubgraphName } from './registry.ts';
import { INTERNAL_ERROR, maskError, maskResult } from './mask-error.ts';

/** Options of one subgraph server. */
export interface SubgraphServerOptions {
  /** Which subgraph: its SDL is `schema/common.graphql` + `schema/<name>.graphql`, its resolvers `resolvers/<name>/`. */
  name: SubgraphName;
  serving: Serving;
  /** The factory's calendar (time zone, shifts, history start, bucket limit). */
  calendar: FactoryCalendar;
  /** Connectors whose raw input is personal data (dead letters' `raw` needs pii:read). Default none. */
  personalConnectors?: readonly string[];
  /** The alert rules' thresholds (MILLRACE_ALERT_* settings). Default DEFAULT_ALERT_THRESHOLDS (the config defaults). */
  alertThresholds?: AlertThresholds;
  /** The connectors' status, for the connector alert rule; null (or a null answer) when this process runs none. Default null. */
  connectors?: (() => Promise<ConnectorHealth[] | null>) | null;
  /** How often the alert rules are evaluated while an `alerts` subscription is open, ms. Default 10000. */
  alertEveryMs?: number;
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Where unexpected (masked) errors are reported. Default console.error. */
  log?: (line: string) => void;
}

export interface SubgraphServer {
  /** HTTP endpoint, e.g. http://127.0.0.1:4001/graphql. */
  url: string;
  /** graphql-ws endpoint for subscriptions (same port and path). */
  wsUrl: string;
  /** The subgraph SDL, for composing the supergraph. */
  sdl: string;
  close(): Promise<void>;
}

const PATH = '/graphql';

/** Apollo Server's settings of every subgraph (the bench's Apollo ceiling uses them too). */
export const APOLLO_SETTINGS = () => ({
  // Apollo's default follows NODE_ENV (off in production); a subgraph is internal, and the
  // gateway decides what callers may introspect (MILLRACE_INTROSPECTION).
  introspection: true,
  // The default landing page loads Apollo Sandbox from a CDN (the gateway serves GraphiQL);
  // inline traces are for Apollo's router, which we do not run. Cache hints are not used (the
  // gateway's response cache is keyed by the data version), and computing them wraps every
  // resolver of every request.
  plugins: [
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginInlineTraceDisabled(),
    ApolloServerPluginCacheControlDisabled(),
  ],
});

/**
 * One subgraph: Apollo Server 5 on a plain node:http server (Apollo 5 ships no HTTP framework
 * integration we could use without new packages; `executeHTTPGraphQLRequest` is its documented
 * integration API), and graphql-ws on the same port for subscriptions, which Apollo does not serve.
 */
export async function createSubgraphServer(opts: SubgraphServerOptions): Promise<SubgraphServer> {
  const log = opts.log ?? ((line: string) => console.error(`[subgraph ${opts.name}] ${line}`));
  if (!(opts.name in SUBGRAPHS))
    throw new MillraceError(
      'CONFIG',
      `unknown subgraph ${JSON.stringify(opts.name)}; known: ${Object.keys(SUBGRAPHS).join(', ')}`,
    );
  const [common, own] = await Promise.all(
    ['common', opts.name].map((f) => readFile(new URL(`../schema/${f}.graphql`, import.meta.url), 'utf8')),
  );
  // The subgraph's own file first: it holds the `extend schema @link(…)` of the federation imports.
  const sdl = `${own}\n${common}`;
  const resolvers = SUBGRAPHS[opts.name]();
  const schema = buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers: resolvers as never }]);
  const personalConnectors = new Set(opts.personalConnectors ?? []);
  // One engine per server: every request and subscription sees the same alerts and `since`.
  const alerts = createAlertEngine({
    serving: opts.serving,
    calendar: opts.calendar,
    thresholds: opts.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS,
    connectors: opts.connectors ?? null,
    everyMs: opts.alertEveryMs,
    log: (line) => log(`alerts: ${line}`),
  });
  // A new context (and new loaders) per request and per subscription: loaders batch and cache within one only.
  const context = async (deadline?: number): Promise<ResolverContext> => ({
    deadline,
    serving: opts.serving,
    calendar: opts.calendar,
    personalConnectors,
    loaders: createLoaders(opts.serving, opts.calendar),
    alerts,
  });

  const apollo = new ApolloServer<ResolverContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    // Apollo would stop on SIGINT/SIGTERM and then re-kill the process with the signal, cutting
    // short the app's own orderly shutdown; shutdown is the owner's: call close().
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => maskError(formatted, error, log),
    ...APOLLO_SETTINGS(),
  });
  await apollo.start();

  const http = createServer((req, res) => {
    // The gateway's request deadline (epoch ms): the reads of this request stop at it.
    const deadline = Number(req.headers['x-millrace-deadline']);
    tracedRequest(`subgraph ${opts.name}`, req.headers, { 'millrace.subgraph': opts.name }, () =>
      handle(apollo, () => context(Number.isFinite(deadline) && deadline > 0 ? deadline : undefined), req, res),
    ).catch((err: Error & { status?: number }) => {
      const tooLarge = err.status === 413;
      if (!tooLarge) log(`http handler: ${err.stack ?? err}`);
      if (!res.headersSent)
        res.writeHead(tooLarge ? 413 : 500, {
          'content-type': 'application/json',
          ...(tooLarge && { connection: 'close' }),
        });
      const error = tooLarge ? { message: err.message, extensions: { code: 'BAD_REQUEST' } } : INTERNAL_ERROR;
      res.end(JSON.stringify({ errors: [error] }));
    });
  });
  const wss = new WebSocketServer({ server: http, path: PATH });
  const ws = useServer<Record<string, unknown>, Record<PropertyKey, never>>(wsOptions(schema, context, log), wss);

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // Subscriptions first (their iterators abort the serving feeds), then the HTTP side.
      await ws.dispose();
      alerts.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      await apollo.stop();
    })());

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await close();
    throw new MillraceError(
      'LISTEN_FAILED',
      `subgraph ${opts.name}: cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const { port } = http.address() as AddressInfo;
  const host = urlHost(opts.host ?? '127.0.0.1');
  return { url: `http://${host}:${port}${PATH}`, wsUrl: `ws://${host}:${port}${PATH}`, sdl, close };
}

function wsOptions(schema: GraphQLSchema, context: () => Promise<ResolverContext>, log: (line: string) => void) {
  return {
    schema,
    context,
    // Same masking as over HTTP: graphql-ws has no formatError, so results are masked here.
    onNext: (_ctx: unknown, _id: string, _payload: unknown, _args: unknown, result: Parameters<typeof maskResult>[0]) =>
      maskResult(result, log),
    // Never leak an implementation error in a close reason.
    isProd: true,
  };
}

async function handle(
  apollo: ApolloServer<ResolverContext>,
  context: () => Promise<ResolverContext>,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const url = new URL(req.url ?? '/', 'http://local');
  if (url.pathname !== PATH) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
    context,
  });
  for (const [key, value] of result.headers) res.setHeader(key, value);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}

/** Largest request body; a federated query with its entity representations is far smaller. */
const MAX_BODY = 4 << 20;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error(`request body over ${MAX_BODY} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  // Non-JSON bodies go to Apollo as text: it answers them with a proper 400.
  if (!/json/i.test(req.headers['content-type'] ?? '')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
