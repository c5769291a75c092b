import { MillraceError } from './errors.ts';

const expired = () =>
  new MillraceError('DEADLINE_EXCEEDED', "the read did not finish before the request's deadline", { retryable: true });

/** Milliseconds left until `deadline` (epoch ms), at least 1; throws DEADLINE_EXCEEDED when it has passed. */
export function remainingMs(deadline: number): number {
  const left = deadline - Date.now();
  if (left <= 0) throw expired();
  return Math.max(1, left);
}

/**
 * `p`, or DEADLINE_EXCEEDED at `deadline`. For store reads (Redis): a command cannot be cancelled
 * once sent, but the request stops waiting for it, and one past its deadline is never sent.
 */
export async function beforeDeadline<T>(read: () => Promise<T>, deadline: number | undefined): Promise<T> {
  if (deadline === undefined) return read();
  const left = remainingMs(deadline);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      read(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(expired()), left))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
