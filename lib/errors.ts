/** The one error shape of millrace: a stable `code`, whether a retry may help, and the cause. */
export class MillraceError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MillraceError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

/** Rethrow with context, keeping the original as `cause` (and its code when it had one). */
export function withContext(err: unknown, context: string): MillraceError {
  if (err instanceof MillraceError) {
    return new MillraceError(err.code, `${context}: ${err.message}`, { retryable: err.retryable, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new MillraceError('INTERNAL', `${context}: ${message}`, { cause: err });
}
