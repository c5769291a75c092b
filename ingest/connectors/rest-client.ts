import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  fullJitterGenerator,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { MillraceError } from '../../lib/errors.ts';

/** Resilience settings of a polled REST source (the `rest-poll` config carries them). */
export interface RestClientOptions {
  /** Per-request timeout, ms: the request is aborted and counts as a failure. */
  timeoutMs: number;
  /** Retries after a failed request (so `retries + 1` attempts per page). */
  retries: number;
  /** First back-off, ms; it doubles per retry, capped at `maxBackoffMs`, with full jitter. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Consecutive failed requests that open the circuit. */
  circuitThreshold: number;
  /** How long an open circuit rejects at once before one trial request (half-open), ms. */
  circuitHalfOpenMs: number;
  /** Aborts a request in flight (the connector's stop). */
  signal: AbortSignal;
}

export type RestResponse = { status: 304 } | { status: 200; etag: string | null; body: unknown };

export interface RestClient {
  /** GET `url` (with `If-None-Match: etag` when given) through timeout → circuit breaker → retry. */
  get(url: string, etag: string | null): Promise<RestResponse>;
}

/** A retryable failure is a 5xx/408/429, a timeout or a refused connection; any other 4xx is not. */
const transient = (e: Error) => e instanceof TaskCancelledError || (e instanceof MillraceError && e.retryable);

/**
 * Short text for a connector's `lastError`: 'HTTP 500', 'timeout', 'circuit open', or the message.
 * Codes: SOURCE_HTTP, SOURCE_TIMEOUT, SOURCE_CIRCUIT_OPEN, SOURCE_UNREACHABLE.
 */
export function describeRestError(err: unknown): string {
  if (err instanceof BrokenCircuitError) return 'circuit open';
  if (err instanceof TaskCancelledError) return 'timeout';
  return err instanceof Error ? err.message : String(err);
}

/**
 * cockatiel policies around `fetch`: each attempt has its own timeout (the policy aborts the
 * request's signal, like `AbortSignal.timeout`); failures feed one circuit breaker per connector, so
 * a dead API is probed once per `circuitHalfOpenMs` instead of being hammered; the retry policy
 * backs off exponentially with full jitter and gives up at once when the circuit is open.
 */
export function createRestClient(opts: RestClientOptions): RestClient {
  const perAttempt = timeout(opts.timeoutMs, TimeoutStrategy.Aggressive);
  const breaker = circuitBreaker(handleWhen(transient), {
    halfOpenAfter: opts.circuitHalfOpenMs,
    breaker: new ConsecutiveBreaker(opts.circuitThreshold),
  });
  const retrying = retry(
    handleWhen((e) => transient(e) && !(e instanceof BrokenCircuitError)),
    {
      maxAttempts: opts.retries,
      backoff: new ExponentialBackoff({
        generator: fullJitterGenerator,
        initialDelay: opts.backoffMs,
        maxDelay: opts.maxBackoffMs,
      }),
    },
  );
  const policy = wrap(retrying, breaker, perAttempt);

  async function attempt(url: string, etag: string | null, signal: AbortSignal): Promise<RestResponse> {
    let res: Response;
    try {
      res = await fetch(url, {
        signal,
        headers: etag ? { accept: 'application/json', 'if-none-match': etag } : { accept: 'application/json' },
      });
    } catch (err) {
      throw new MillraceError('SOURCE_UNREACHABLE', `GET ${url}: ${(err as Error).message}`, {
        retryable: true,
        cause: err,
      });
    }
    if (res.status === 304) return { status: 304 };
    if (res.status !== 200) {
      await res.body?.cancel();
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new MillraceError(res.status === 410 ? 'POSITION_LOST' : 'SOURCE_HTTP', `HTTP ${res.status}`, {
        retryable,
      });
    }
    const text = await res.text();
    try {
      return { status: 200, etag: res.headers.get('etag'), body: JSON.parse(text) };
    } catch (err) {
      // A torn body is a transport failure: the same page is asked for again.
      throw new MillraceError('SOURCE_HTTP', `GET ${url}: body is not JSON`, { retryable: true, cause: err });
    }
  }

  return {
    async get(url, etag) {
      try {
        return await policy.execute(({ signal }) => attempt(url, etag, signal), opts.signal);
      } catch (err) {
        if (opts.signal.aborted) throw new MillraceError('STOPPED', 'connector stopped', { cause: err });
        throw err;
      }
    },
  };
}
