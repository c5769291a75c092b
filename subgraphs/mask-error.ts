import { GraphQLError, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { MillraceError } from '../lib/errors.ts';

/** The one answer clients get for a failure we did not expect. */
export const INTERNAL_ERROR: GraphQLFormattedError = {
  message: 'Internal server error',
  extensions: { code: 'INTERNAL_SERVER_ERROR' },
};

/**
 * What a client may see of an error (Apollo's `formatError`): a MillraceError keeps its code (and
 * says whether a retry may help), a GraphQLError made on purpose (bad input, validation) is
 * passed on, and anything else, including MillraceError INTERNAL, whose message may carry a
 * driver's text, becomes INTERNAL_SERVER_ERROR with no message or stack of its own.
 */
export function maskError(
  formatted: GraphQLFormattedError,
  error: unknown,
  log: (line: string) => void,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = {
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
  };
  if (original instanceof MillraceError && original.code !== 'INTERNAL') {
    return { message: original.message, ...where, extensions: { code: original.code, retryable: original.retryable } };
  }
  if (original instanceof GraphQLError) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  log(`unexpected error${formatted.path ? ` at ${formatted.path.join('.')}` : ''}: ${describe(original)}`);
  return { ...INTERNAL_ERROR, ...where };
}

/** `maskError` over a result streamed by graphql-ws (which has no formatError of its own). */
export function maskResult(result: ExecutionResult, log: (line: string) => void): FormattedExecutionResult {
  const { errors, ...rest } = result;
  if (!errors?.length) return rest as FormattedExecutionResult;
  return { ...rest, errors: errors.map((e) => maskError(e.toJSON(), e, log)) } as FormattedExecutionResult;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
