import { MillraceError } from '../lib/errors.ts';

/**
 * The one query verify sends, over plain `fetch` (verify is a client of the public API like any
 * other; it must not reach into the serving code it checks). Shape: `schema/production.graphql`.
 */
export const METRICS = ['PARTS_ENTERED', 'PARTS_EXITED', 'STATION_ERRORS', 'CYCLE_TIME'] as const;
export type ProductionMetric = (typeof METRICS)[number];

export const GRAINS = ['MINUTE', 'HOUR', 'DAY'] as const;
export type Grain = (typeof GRAINS)[number];
export const GRAIN_MS: Readonly<Record<Grain, number>> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

export interface ApiPoint {
  bucket: string;
  station: { id: string };
  errorCode: string | null;
  value: number;
  histogram: { bounds: number[]; counts: number[]; count: number; sum: number } | null;
}

export interface SeriesQuery {
  metric: ProductionMetric;
  grain: Grain;
  /** ISO-8601 UTC. */
  from: string;
  to: string;
}

export const SERIES_QUERY = `query Verify($metric: ProductionMetric!, $grain: Grain!, $from: DateTime!, $to: DateTime!) {
  productionSeries(metric: $metric, grain: $grain, from: $from, to: $to) {
    points { bucket station { id } errorCode value histogram { bounds counts count sum } }
  }
}`;

export interface GraphqlOptions {
  url: string;
  /** Extra request headers (e.g. authorization). Default none. */
  headers?: Record<string, string>;
  /** Per-request timeout, ms. Default 30 000. */
  timeoutMs?: number;
}

/** One GraphQL request; any error is VERIFY_QUERY_FAILED naming `what`. */
export async function postQuery<T>(
  opts: GraphqlOptions,
  what: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...opts.headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new MillraceError('VERIFY_QUERY_FAILED', `${what}: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
    });
  }
  const text = await res.text();
  let body: { data?: T | null; errors?: Array<{ message: string }> };
  try {
    body = JSON.parse(text);
  } catch {
    throw new MillraceError('VERIFY_QUERY_FAILED', `${what}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (body.errors?.length)
    throw new MillraceError('VERIFY_QUERY_FAILED', `${what}: ${body.errors.map((e) => e.message).join('; ')}`);
  if (!res.ok || !body.data)
    throw new MillraceError('VERIFY_QUERY_FAILED', `${what}: HTTP ${res.status}, no data in ${text.slice(0, 200)}`);
  return body.data;
}

export async function querySeries(opts: GraphqlOptions, q: SeriesQuery): Promise<ApiPoint[]> {
  const what = `productionSeries(${q.metric}, ${q.grain}, ${q.from}, ${q.to})`;
  const data = await postQuery<{ productionSeries?: { points?: ApiPoint[] } }>(opts, what, SERIES_QUERY, { ...q });
  const points = data.productionSeries?.points;
  if (!Array.isArray(points))
    throw new MillraceError('VERIFY_QUERY_FAILED', `${what}: no points in ${JSON.stringify(data).slice(0, 200)}`);
  return points;
}
