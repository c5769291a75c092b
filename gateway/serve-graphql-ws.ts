import type { IncomingMessage, Server } from 'node:http';
import { getGraphQLWSOptions, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { originAllowed } from './use-origin-check.ts';
import { createSlowConsumerGuard, type SlowConsumerOptions } from './slow-consumer-guard.ts';
import { createSubscriptionSharing, type DirectSink, type SubscriptionSharingOptions } from './share-subscriptions.ts';

const OPERATION_ID = 'graphqlWsOperationId';

/** Options of the gateway's graphql-ws endpoint. */
export interface GraphQLWsOptions {
  /** Path, shared with HTTP GraphQL. Default '/graphql'. */
  path?: string;
  /** Largest client message, bytes. Default 1 MiB (a subscription message is a few hundred bytes). */
  maxPayload?: number;
  /** Origins besides the gateway's own allowed to open a socket (browsers send Origin; others do not). Default none. */
  allowedOrigins?: string[];
  /** Slow clients: unsent bytes allowed per socket before it is closed (slow-consumer-guard.ts). */
  slowConsumer?: SlowConsumerOptions;
  /** Identical subscriptions share one execution (share-subscriptions.ts); omitted: each runs its own. */
  sharing?: SubscriptionSharingOptions;
}

/**
 * graphql-ws on the gateway's own HTTP server (one port for queries and subscriptions).
 * Operations go through the runtime's full Yoga pipeline (`getGraphQLWSOptions` →
 * `getResultForParams`), so plugins (limits, error codes, masking) apply over WebSockets exactly
 * as over HTTP. Yoga plugins expect a Fetch `Request`; the upgrade request is converted.
 */
export function serveGraphQLWs(
  server: Server,
  runtime: GatewayRuntime,
  opts: GraphQLWsOptions = {},
): { close(): Promise<void>; stats(): { groups: number; members: number; sockets: number } } {
  const allowed = opts.allowedOrigins ?? [];
  const wss = new WebSocketServer({
    server,
    path: opts.path ?? '/graphql',
    maxPayload: opts.maxPayload ?? 1 << 20,
    // A page on another site may open a WebSocket to us (browsers do not apply CORS to it): refuse the handshake (403).
    verifyClient: (info: { origin?: string; req: IncomingMessage }) =>
      originAllowed(info.origin || info.req.headers.origin, info.req.headers.host, allowed),
  });
  const options = getGraphQLWSOptions<Record<string, unknown>, Extra>(runtime, (ctx) => ({
    // The connection_init payload: it carries the credentials a browser cannot put in headers.
    connectionParams: ctx.connectionParams,
    req: ctx.extra.request,
    socket: ctx.extra.socket,
    request: toFetchRequest(ctx.extra.request, runtime.fetchAPI.Request),
  }));
  // Every subscription's results wait for its client within the socket's byte budget.
  const guard = createSlowConsumerGuard(opts.slowConsumer);
  const sharing = opts.sharing ? createSubscriptionSharing(opts.sharing) : null;
  type Run = NonNullable<typeof options.subscribe>;
  const bounded =
    (run: Run): Run =>
    async (args) => {
      const { socket, [OPERATION_ID]: id } = (args.contextValue ?? {}) as {
        socket?: WebSocket;
        [OPERATION_ID]?: string;
      };
      const direct: DirectSink | null =
        socket && id !== undefined
          ? { id, send: (text) => socket.send(text), admit: (bytes) => guard.admit(socket, bytes) }
          : null;
      const result = (sharing ? await sharing.share(args, run as never, direct) : await run(args)) as Awaited<
        ReturnType<Run>
      >;
      if (!socket || !result || typeof result !== 'object' || !(Symbol.asyncIterator in result)) return result;
      return guard.bound(socket, result as AsyncIterable<never>);
    };
  // isProd: an implementation error must not travel to clients in a close reason.
  const ws = useServer(
    {
      ...options,
      // The operation's id rides in its context: shared results are written to the socket under it.
      onSubscribe: async (ctx, id, payload) => {
        const args = await options.onSubscribe!(ctx, id, payload);
        const context = args && !Array.isArray(args) ? (args as { contextValue?: unknown }).contextValue : null;
        if (context && typeof context === 'object') (context as Record<string, unknown>)[OPERATION_ID] = id;
        return args;
      },
      subscribe: bounded(options.subscribe!),
      execute: bounded(options.execute!),
      isProd: true,
    },
    wss,
  );
  return {
    stats: () => ({ ...(sharing?.stats() ?? { groups: 0, members: 0 }), sockets: wss.clients.size }),
    async close() {
      // Completes every operation (ending their upstream subscriptions), then closes the sockets.
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

// Hop-by-hop and handshake headers describe the socket, not the GraphQL request.
const SKIP = /^(connection|upgrade|sec-websocket-.*|host|content-length|transfer-encoding)$/i;

function toFetchRequest(req: IncomingMessage, RequestCtor: typeof Request): Request {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || SKIP.test(key)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  return new RequestCtor(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: 'GET', headers });
}
