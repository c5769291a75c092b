import { GraphQLError, type ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { MillraceError } from '../lib/errors.ts';

/** Options of `useErrorCodes`. */
export interface ErrorCodesOptions {
  /** Message of a masked error. Default 'Internal server error'. */
  message?: string;
  /** Where the unmasked originals go (they never reach clients). Default console.error. */
  log?: (line: string) => void;
}

/**
 * The gateway's error contract (STYLE.md §7): an error a client gets has an `extensions.code`
 * and never a stack. MillraceError keeps its code and message; a GraphQLError that carries its
 * made on purpose (subgraph BAD_USER_INPUT, CURSOR_EXPIRED, validation…) passes; an error caused
 * by anything else (a bug, a failed fetch) becomes INTERNAL_SERVER_ERROR. Debug extensions a subgraph may add (stacktrace, exception,
 * originalError) are dropped on the way out, whatever NODE_ENV says.
 */
export function useErrorCodes(opts: ErrorCodesOptions = {}): GatewayPlugin {
  const maskOne = createErrorMask(opts);
  const mask = (result: ExecutionResult): ExecutionResult | undefined =>
    result.errors?.length ? { ...result, errors: result.errors.map(maskOne) } : undefined;
  const onResult = ({ result, setResult }: { result: unknown; setResult: (r: ExecutionResult) => void }) => {
    if (isAsyncIterable(result)) {
      return {
        onNext: ({ result: r, setResult: set }: { result: ExecutionResult; setResult: (r: ExecutionResult) => void }) =>
          void apply(mask(r), set),
      };
    }
    apply(mask(result as ExecutionResult), setResult);
    return undefined;
  };
  return {
    onExecute: () => ({ onExecuteDone: onResult }),
    onSubscribe: () => ({ onSubscribeResult: onResult }),
  } as GatewayPlugin;
}

/** The per-error decision of `useErrorCodes`, exported for tests and for other entry points. */
export function createErrorMask(opts: ErrorCodesOptions = {}): (error: GraphQLError) => GraphQLError {
  const message = opts.message ?? 'Internal server error';
  const log = opts.log ?? ((line: string) => console.error(`[gateway] ${line}`));
  return (error) => {
    const original = error.originalError;
    const at = { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path };
    if (original instanceof MillraceError && original.code !== 'INTERNAL') {
      return new GraphQLError(original.message, {
        ...at,
        extensions: { code: original.code, retryable: original.retryable },
      });
    }
    // Made on purpose (validation, variables, a subgraph's coded error): passed on, minus debug data.
    if (!original || original instanceof GraphQLError) {
      const {
        stacktrace: _s,
        exception: _e,
        originalError: _o,
        request: _rq,
        response: _rs,
        ...extensions
      } = error.extensions ?? {};
      if (extensions.code === 'SUBREQUEST_HTTP_ERROR') {
        // The executor's message names the subgraph's host and port: say which subgraph, not where.
        log(`subgraph request failed: ${error.message}`);
        const name = typeof extensions.serviceName === 'string' ? ` ${extensions.serviceName}` : '';
        return new GraphQLError(`subgraph${name} is unavailable`, {
          ...at,
          extensions: { ...extensions, retryable: true },
        });
      }
      // Without a code and outside execution (no path): a variable that did not coerce.
      if (extensions.code === undefined && !error.path) extensions.code = 'BAD_USER_INPUT';
      return new GraphQLError(error.message, { ...at, extensions });
    }
    log(`masked: ${original.stack ?? original.message}`);
    return new GraphQLError(message, { ...at, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}

function apply(result: ExecutionResult | undefined, set: (r: ExecutionResult) => void): void {
  if (result) set(result);
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}
