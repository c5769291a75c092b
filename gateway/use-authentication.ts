import { GraphQLError, type ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { MillraceError } from '../lib/errors.ts';
import type { Authenticator, Credentials, Principal } from './create-authenticator.ts';

/** Options of `useAuthentication`. */
export interface AuthenticationOptions {
  authenticator: Authenticator;
}

/** The context field the principal lands in (read by useAuthorization, useRateLimit, …). */
export const PRINCIPAL = 'principal';

/**
 * Every operation needs a principal: a bearer token (`Authorization: Bearer …`) or an API key
 * (`x-api-key`), read from the HTTP request (queries, SSE subscriptions) or from graphql-ws's
 * `connection_init` payload (`{ authorization }` or `{ apiKey }`; browsers cannot set headers on
 * a WebSocket). Without one the request fails with UNAUTHENTICATED (HTTP 401). A subscription
 * ends, with an UNAUTHENTICATED error, when its token expires.
 */
export function useAuthentication(opts: AuthenticationOptions): GatewayPlugin {
  const { authenticator } = opts;
  return {
    async onContextBuilding({
      context,
      extendContext,
    }: {
      context: Record<string, unknown>;
      extendContext: (c: Record<string, unknown>) => void;
    }) {
      if (context[PRINCIPAL]) return;
      try {
        extendContext({ [PRINCIPAL]: await authenticator.authenticate(credentialsOf(context)) });
      } catch (err) {
        if (err instanceof MillraceError && err.code === 'UNAUTHENTICATED') {
          throw new GraphQLError(err.message, {
            extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } },
          });
        }
        throw err;
      }
    },
    onSubscribe({ args }: { args: { contextValue: Record<string, unknown> } }) {
      const expiresAt = (args.contextValue[PRINCIPAL] as Principal | undefined)?.expiresAt;
      if (expiresAt === undefined) return undefined;
      return {
        onSubscribeResult({
          result,
          setResult,
        }: {
          result: unknown;
          setResult: (r: AsyncIterable<ExecutionResult>) => void;
        }) {
          if (result && typeof result === 'object' && Symbol.asyncIterator in result)
            setResult(endAt(result as AsyncIterable<ExecutionResult>, expiresAt));
        },
      };
    },
  } as GatewayPlugin;
}

/** The credentials of a request or a graphql-ws connection (its `connection_init` payload first). */
export function credentialsOf(context: Record<string, unknown>): Credentials {
  const params = context.connectionParams as Record<string, unknown> | undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const headers = (context.request as Request | undefined)?.headers;
  return {
    authorization: str(params?.authorization) ?? str(params?.Authorization) ?? headers?.get('authorization') ?? null,
    apiKey: str(params?.apiKey) ?? str(params?.['x-api-key']) ?? headers?.get('x-api-key') ?? null,
  };
}

/** setTimeout's longest delay; a 30-day token re-arms the timer. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * The events of `source` until `at`, then one UNAUTHENTICATED error, then the end. A plain
 * iterator, not an async generator: a generator cannot be returned while it awaits the next
 * event, and a client's unsubscribe must reach the upstream at once. The expiry interrupts only
 * the pending `next()` (it used to be raced against every `next()`, each race leaving a reaction
 * on the one expiry promise: memory that grew with every event until the token expired).
 */
export function endAt(source: AsyncIterable<ExecutionResult>, at: number): AsyncIterableIterator<ExecutionResult> {
  const it = source[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  let expired = false;
  let interrupt: (() => void) | null = null;
  const fire = () => {
    expired = true;
    const i = interrupt;
    interrupt = null;
    i?.();
  };
  const arm = () => {
    const left = at - Date.now();
    if (left <= 0) return fire();
    timer = setTimeout(left > MAX_DELAY ? arm : fire, Math.min(left, MAX_DELAY));
  };
  arm();
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    if (!finished) {
      finished = true;
      clearTimeout(timer);
      interrupt = null;
      await it.return?.();
    }
    return { done: true, value: undefined };
  };
  const expiredResult = (): IteratorResult<ExecutionResult> => ({
    done: false,
    value: {
      errors: [
        new GraphQLError('the token expired: subscribe again with a fresh one', {
          extensions: { code: 'UNAUTHENTICATED' },
        }),
      ],
    },
  });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (finished) return { done: true, value: undefined };
      if (!expired) {
        const next = await new Promise<IteratorResult<ExecutionResult> | null>((resolve, reject) => {
          interrupt = () => resolve(null);
          it.next().then(resolve, reject);
        });
        interrupt = null;
        if (next && !expired) {
          if (next.done) await finish();
          return next;
        }
      }
      await finish();
      return expiredResult();
    },
    return: finish,
    async throw(err: unknown) {
      await finish();
      throw err;
    },
  };
}
