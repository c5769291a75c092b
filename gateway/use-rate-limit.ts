import { GraphQLError } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { PRINCIPAL } from './use-authentication.ts';
import type { Principal } from './create-authenticator.ts';

/** Options of `useRateLimit`. */
export interface RateLimitOptions {
  /** Operations per minute per client (token or API key subject). 0 = no limit. Default 6000. */
  perMinute?: number;
  /** Operations a client may send at once above the steady rate. Default 300. */
  burst?: number;
  /** Most clients tracked; the least recently seen are forgotten beyond it. Default 10 000. */
  maxClients?: number;
  /** Clock, ms (tests). Default Date.now. */
  now?: () => number;
}

export const RATE_CODE = 'RATE_LIMITED';

/** The buckets behind `useRateLimit`: `take(subject)` charges one operation (0) or says how many seconds to wait. */
export interface RateLimiter {
  readonly perMinute: number;
  take(subject: string): number;
}

/** A token bucket per client: `burst` operations at once, refilled at `perMinute`; 0 per minute = no limit. */
export function createRateLimiter(opts: RateLimitOptions = {}): RateLimiter {
  const perMinute = opts.perMinute ?? 6000;
  const burst = opts.burst ?? 300;
  const maxClients = opts.maxClients ?? 10_000;
  const now = opts.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const take = (client: string): number => {
    const t = now();
    const b = buckets.get(client) ?? { tokens: burst, at: t };
    buckets.delete(client);
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) * perMinute) / 60_000);
    b.at = t;
    buckets.set(client, b);
    if (buckets.size > maxClients) buckets.delete(buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 60_000) / perMinute / 1000);
  };
  return { perMinute, take: (subject) => (perMinute <= 0 ? 0 : take(subject)) };
}

/**
 * A token bucket per client, keyed by the authenticated subject (so it runs after
 * useAuthentication): `burst` operations at once, refilled at `perMinute`. Over it, the operation
 * fails with RATE_LIMITED (HTTP 429, Retry-After). In-process: each gateway instance counts alone.
 * Pass `limiter` to share the buckets with what charges operations outside the pipeline (a
 * subscriber joining a shared subscription, gateway/share-subscriptions.ts).
 */
export function useRateLimit(opts: RateLimitOptions = {}, limiter = createRateLimiter(opts)): GatewayPlugin {
  const { perMinute } = limiter;
  return {
    onContextBuilding({ context }: { context: Record<string, unknown> }) {
      if (perMinute <= 0) return;
      const principal = context[PRINCIPAL] as Principal | undefined;
      if (!principal) return;
      const wait = limiter.take(principal.subject);
      if (wait > 0) {
        throw new GraphQLError(`rate limit: ${perMinute} operations per minute; retry in ${wait} s`, {
          extensions: {
            code: RATE_CODE,
            retryAfterSec: wait,
            http: { status: 429, headers: { 'retry-after': String(wait) } },
          },
        });
      }
    },
  } as GatewayPlugin;
}
