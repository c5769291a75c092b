import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from './gql/graphql.ts';

/** A GraphQL error as the gateway sends it (extensions.code is always set by millrace). */
export interface ApiError {
  message: string;
  code: string;
}

/** Thrown by `query` when the answer has errors or the request failed. */
export class ApiFailure extends Error {
  constructor(readonly errors: ApiError[]) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  }
  get unauthenticated(): boolean {
    return this.errors.some(
      (e) => e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN' || e.code === 'HTTP_401' || e.code === 'HTTP_403',
    );
  }
}

/** `reconnected`: connected again after the gateway went away (views re-read everything then). */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'reconnected' | 'idle';

/** What a subscription's sink receives. */
export interface SubscriptionSink<T> {
  next(data: T): void;
  error(err: ApiFailure): void;
}

/** Options of the API client. */
export interface ApiClientOptions {
  /** GraphQL endpoint (HTTP); graphql-ws uses the same path. Default `/graphql` of the page's origin. */
  url?: string;
  /** Bearer token, or null when signed out (the gateway may run without auth). */
  token: () => string | null;
  /** Called on every change of the live connection (for the header's indicator and refetching). */
  onConnection?: (state: ConnectionState) => void;
}

export interface ApiClient {
  query<R, V>(doc: TypedDocumentString<R, V>, variables: V): Promise<R>;
  subscribe<R, V>(doc: TypedDocumentString<R, V>, variables: V, sink: SubscriptionSink<R>): () => void;
  /** GET of a JSON route beside GraphQL (e.g. /status), with the same credentials. */
  getJson(path: string): Promise<unknown>;
  /** Drops the live socket so the next subscription connects with the current token. */
  reconnect(): void;
  dispose(): void;
}

/**
 * The dashboard's only way to the gateway: GraphQL over HTTP POST for reports, graphql-ws for live
 * updates. The socket retries forever with capped backoff, so a gateway restart shows as
 * "reconnecting" and then every subscription resumes with a fresh SNAPSHOT.
 */
export function createApiClient(opts: ApiClientOptions): ApiClient {
  const httpUrl = opts.url ?? new URL('/graphql', location.href).href;
  const wsUrl = httpUrl.replace(/^http/, 'ws');
  let ws: Client | null = null;
  // Set by a close we did not ask for (the gateway went away): the next connect is a reconnect.
  let abnormal = false;

  function authHeaders(): Record<string, string> {
    const token = opts.token();
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  function socket(): Client {
    ws ??= createClient({
      url: wsUrl,
      connectionParams: () => {
        const token = opts.token();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      lazy: true,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      // 0.5 s, 1 s, 2 s … capped at 5 s: a restarted gateway is picked up within seconds.
      retryWait: (retries) =>
        new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * 2 ** retries) * (0.75 + Math.random() / 2))),
      on: {
        connecting: () => opts.onConnection?.(abnormal ? 'reconnecting' : 'connecting'),
        connected: () => {
          opts.onConnection?.(abnormal ? 'reconnected' : 'connected');
          abnormal = false;
        },
        // 1000: closed by us (no subscription left, or a sign-in); anything else: the gateway went away.
        closed: (event) => {
          abnormal = (event as CloseEvent | undefined)?.code !== 1000;
          opts.onConnection?.(abnormal ? 'reconnecting' : 'idle');
        },
      },
    });
    return ws;
  }

  return {
    async query(doc, variables) {
      let res: Response;
      try {
        res = await fetch(httpUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            ...authHeaders(),
          },
          body: JSON.stringify({ query: doc.toString(), variables }),
        });
      } catch (err) {
        throw new ApiFailure([{ code: 'NETWORK', message: `gateway unreachable (${(err as Error).message})` }]);
      }
      let body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      try {
        body = await res.json();
      } catch {
        throw new ApiFailure([{ code: `HTTP_${res.status}`, message: res.statusText || 'not a GraphQL answer' }]);
      }
      if (body.errors?.length) {
        throw new ApiFailure(
          body.errors.map((e) => ({ message: e.message, code: e.extensions?.code ?? `HTTP_${res.status}` })),
        );
      }
      if (!res.ok || body.data == null)
        throw new ApiFailure([{ code: `HTTP_${res.status}`, message: res.statusText || 'no data' }]);
      return body.data as never;
    },
    subscribe(doc, variables, sink) {
      return socket().subscribe(
        { query: doc.toString(), variables: variables as Record<string, unknown> },
        {
          next: (msg) => {
            if (msg.errors?.length) {
              sink.error(
                new ApiFailure(
                  msg.errors.map((e) => ({
                    message: e.message,
                    code: String(e.extensions?.code ?? 'SUBSCRIPTION_ERROR'),
                  })),
                ),
              );
            } else if (msg.data) sink.next(msg.data as never);
          },
          error: (err) => {
            const errors = Array.isArray(err)
              ? (err as { message: string; extensions?: { code?: string } }[]).map((e) => ({
                  message: e.message,
                  code: e.extensions?.code ?? 'SUBSCRIPTION_ERROR',
                }))
              : err instanceof Error
                ? [{ message: err.message, code: 'SUBSCRIPTION_ERROR' }]
                : // A CloseEvent: the socket ended (4500 when the gateway failed the operation).
                  [
                    {
                      message: `live connection closed (${(err as CloseEvent)?.code ?? '?'} ${(err as CloseEvent)?.reason || 'no reason'})`,
                      code: 'SUBSCRIPTION_CLOSED',
                    },
                  ];
            sink.error(new ApiFailure(errors));
          },
          complete: () => undefined,
        },
      );
    },
    async getJson(path) {
      let res: Response;
      try {
        res = await fetch(new URL(path, httpUrl), { headers: authHeaders() });
      } catch (err) {
        throw new ApiFailure([{ code: 'NETWORK', message: `gateway unreachable (${(err as Error).message})` }]);
      }
      if (!res.ok)
        throw new ApiFailure([{ code: `HTTP_${res.status}`, message: `${path}: ${res.status} ${res.statusText}` }]);
      return res.json();
    },
    reconnect() {
      const old = ws;
      ws = null;
      void old?.dispose();
    },
    dispose() {
      void ws?.dispose();
      ws = null;
    },
  };
}
