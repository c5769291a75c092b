import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfigBase, GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { Registry } from 'prom-client';
import { MillraceError } from '../lib/errors.ts';
import type { Authenticator } from './create-authenticator.ts';
import { useAuthentication } from './use-authentication.ts';
import { useAuthorization } from './use-authorization.ts';
import { useCostLimit, type CostLimitOptions } from './use-cost-limit.ts';
import { useDeadline } from './use-deadline.ts';
import { useLimits, type LimitsOptions } from './use-limits.ts';
import { useOperationMetrics } from './use-operation-metrics.ts';
import { corsOptions, useOriginCheck } from './use-origin-check.ts';
import { createRateLimiter, useRateLimit, type RateLimiter, type RateLimitOptions } from './use-rate-limit.ts';
import { useRequestSize, type RequestSizeOptions } from './use-request-size.ts';

/** Everything that keeps the gateway safe to expose (README "Security" documents the defaults). */
export interface SecurityOptions {
  /** Checks tokens and API keys (gateway/create-authenticator.ts). Required: there is no open mode but `off: true` there. */
  authenticator: Authenticator;
  /** Origins besides the gateway's own that browsers may call from (CORS and the WebSocket check). Default none. */
  allowedOrigins?: string[];
  /** Document shape limits (depth, tokens, aliases, directives). Defaults in useLimits. */
  limits?: LimitsOptions;
  /** Cost estimate limit. Defaults in useCostLimit. */
  cost?: CostLimitOptions;
  /** Per-client rate limit. Defaults in useRateLimit. */
  rateLimit?: RateLimitOptions;
  /** Body and variables size limits. Defaults in useRequestSize. */
  requestSize?: RequestSizeOptions;
  /** Query/mutation deadline, ms (0 = none). Default 10 000. */
  deadlineMs?: number;
  /** Serve schema introspection. Default true (production turns it off in config). */
  introspection?: boolean;
  /** Serve GraphiQL at GET /graphql. Default true. */
  graphiql?: boolean;
  /** Headers GraphiQL sends by default (the embedded dev token). Default none. */
  graphiqlHeaders?: Record<string, string>;
  /** Persisted operations by id (`extensions.persistedQuery.sha256Hash` or `documentId`). Default none. */
  persistedOperations?: Record<string, string>;
  /** Only persisted operations may run (arbitrary documents are refused). Default false. */
  persistedOnly?: boolean;
  /** Registry for per-operation metrics (the one /metrics serves). Default none (no metrics). */
  metricsRegistry?: Registry;
}

type RuntimeSecurity = Pick<
  GatewayConfigBase<Record<string, unknown>>,
  'cors' | 'csrfPrevention' | 'disableIntrospection' | 'persistedDocuments'
> & {
  graphiql: false | { title: string; headers?: string; defaultHeaders?: string };
};

/**
 * The security plugins in the order a request meets them (ARCHITECTURE.md "The front door"):
 * origin, size, authentication, rate, shape limits, cost, scopes, deadline; plus the runtime
 * options built into Hive Gateway (CORS, CSRF prevention, introspection, persisted documents).
 */
export function createSecurity(opts: SecurityOptions): {
  plugins: GatewayPlugin[];
  runtime: RuntimeSecurity;
  /** The rate limit's buckets (a subscriber joining a shared subscription is charged there too). */
  rateLimiter: RateLimiter;
} {
  const rateLimiter = createRateLimiter(opts.rateLimit);
  const plugins: GatewayPlugin[] = [
    ...(opts.metricsRegistry ? [useOperationMetrics({ registry: opts.metricsRegistry })] : []),
    useOriginCheck({ allowedOrigins: opts.allowedOrigins }),
    useRequestSize(opts.requestSize),
    useAuthentication({ authenticator: opts.authenticator }),
    useRateLimit(opts.rateLimit, rateLimiter),
    useLimits(opts.limits),
    useCostLimit(opts.cost),
    useAuthorization(),
    useDeadline({ timeoutMs: opts.deadlineMs }),
  ];
  const persisted = opts.persistedOperations;
  const headers = opts.graphiqlHeaders && JSON.stringify(opts.graphiqlHeaders);
  return {
    plugins,
    rateLimiter,
    runtime: {
      cors: corsOptions(opts.allowedOrigins),
      // A browser cannot send these headers cross-site without a preflight, which CORS refuses.
      csrfPrevention: { requestHeaders: ['x-graphql-csrf', 'authorization', 'x-api-key'] },
      disableIntrospection: opts.introspection === false ? { disableIf: () => true } : undefined,
      graphiql:
        opts.graphiql === false ? false : { title: 'millrace', ...(headers && { headers, defaultHeaders: headers }) },
      persistedDocuments:
        persisted || opts.persistedOnly
          ? {
              getPersistedOperation: (key: string) => persisted?.[key] ?? null,
              allowArbitraryDocuments: !opts.persistedOnly,
            }
          : undefined,
    },
  };
}

/**
 * Guards a plain route (/status, /metrics) with the same credentials as GraphQL: 401 without a
 * valid one, 403 without `scope`.
 */
export function requireScope(
  authenticator: Authenticator,
  scope: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const header = (name: string) =>
      Array.isArray(req.headers[name]) ? req.headers[name]![0] : (req.headers[name] as string | undefined);
    authenticator.authenticate({ authorization: header('authorization'), apiKey: header('x-api-key') }).then(
      (principal) => {
        if (principal.scopes.includes(scope)) return handler(req, res);
        deny(res, 403, 'FORBIDDEN', `this route needs scope ${scope}`);
      },
      (err) => {
        if (err instanceof MillraceError && err.code === 'UNAUTHENTICATED') deny(res, 401, err.code, err.message);
        else deny(res, 500, 'INTERNAL_SERVER_ERROR', 'authentication failed');
      },
    );
  };
}

function deny(res: ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...(status === 401 && { 'www-authenticate': 'Bearer' }),
  });
  res.end(JSON.stringify({ error: message, code }));
}
