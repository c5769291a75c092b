import { GraphQLError, type ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/** Options of `useDeadline`. */
export interface DeadlineOptions {
  /** Longest a query or mutation may run, ms. 0 = none. Default 10 000. */
  timeoutMs?: number;
}

export const DEADLINE_CODE = 'DEADLINE_EXCEEDED';
/** Header carrying the deadline (epoch ms) to the subgraphs, which pass it on to Postgres and Redis. */
export const DEADLINE_HEADER = 'x-millrace-deadline';

/**
 * A deadline per query/mutation: the answer is cut at it (DEADLINE_EXCEEDED, and whatever data
 * had not arrived is lost), every subgraph fetch carries it in `x-millrace-deadline` and is
 * aborted at it, so the subgraph's own work stops too (its store reads set `statement_timeout`
 * from it). Subscriptions are long-lived by design and have none.
 */
export function useDeadline(opts: DeadlineOptions = {}): GatewayPlugin {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadlines = new WeakMap<object, number>();
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (timeoutMs <= 0) return;
      const deadline = Date.now() + timeoutMs;
      deadlines.set(args.contextValue as object, deadline);
      const cutResult = (): ExecutionResult => ({
        data: null,
        errors: [
          new GraphQLError(`the operation did not finish within its ${timeoutMs} ms deadline`, {
            extensions: { code: DEADLINE_CODE, retryable: true },
          }),
        ],
      });
      setExecuteFn((execArgs) => {
        let timer: NodeJS.Timeout | undefined;
        const cut = new Promise<ExecutionResult>(
          (resolve) => (timer = setTimeout(() => resolve(cutResult()), timeoutMs)),
        );
        const run = Promise.resolve(executeFn(execArgs)).then((result) => {
          // A subgraph fetch aborted at the deadline can beat the timer by a tick: still the deadline's error.
          const r = result as ExecutionResult;
          return r && !(Symbol.asyncIterator in r) && r.errors?.length && Date.now() >= deadline ? cutResult() : result;
        });
        return Promise.race([run, cut]).finally(() => clearTimeout(timer)) as ReturnType<typeof executeFn>;
      });
    },
    onFetch({
      context,
      options,
      setOptions,
    }: {
      context: object;
      options: RequestInit;
      setOptions: (o: RequestInit) => void;
    }) {
      const deadline = context && deadlines.get(context);
      if (deadline === undefined) return;
      const left = Math.max(1, deadline - Date.now());
      const signals = [AbortSignal.timeout(left), ...(options.signal ? [options.signal] : [])];
      setOptions({ ...options, headers: withDeadline(options.headers, deadline), signal: AbortSignal.any(signals) });
    },
  } as GatewayPlugin;
}

/**
 * The fetch's headers as a plain object, with the deadline header set. The subgraph executor
 * passes a plain object with lower-case names: copied as it is (no Headers object built and
 * read back per fetch); anything else goes through Headers, which lower-cases and merges names.
 */
function withDeadline(init: unknown, deadline: number): Record<string, string> {
  if (init && Object.getPrototypeOf(init) === Object.prototype) {
    const plain = init as Record<string, unknown>;
    if (Object.keys(plain).every((k) => k === k.toLowerCase() && typeof plain[k] === 'string'))
      return { ...(plain as Record<string, string>), [DEADLINE_HEADER]: String(deadline) };
  }
  const headers = new Headers(init as HeadersInit | undefined);
  headers.set(DEADLINE_HEADER, String(deadline));
  return Object.fromEntries(headers);
}
