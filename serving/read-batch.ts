import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { CompiledMetric } from '../metrics/define-metric.ts';
import { ident } from '../lib/ident.ts';
import { MillraceError } from '../lib/errors.ts';
import { remainingMs } from '../lib/deadline.ts';
import type { Grain } from './types.ts';

export interface BatchRead {
  /** Batch watermark per partition. */
  watermarks: number[];
  /** Loader offset per partition (for the speed lag). */
  loaded: number[];
  watermarkTime: number | null;
  refreshedAt: number | null;
  rows: Array<{ bucket: number; dims: string[]; cells: number[] }>;
}

/**
 * How much sooner than the pool connections' own statement_timeout a read's deadline may be and
 * still run as the bare statement (one round trip; Postgres then cancels it at most this late).
 */
export const DEADLINE_SLACK_MS = 500;

/**
 * Watermarks and rollups in ONE snapshot: the refresher advances W in the same transaction as the
 * rollups, so what we read is exactly "all raw rows below W". One statement sees one snapshot
 * (even at READ COMMITTED), so both are read by a single UNION ALL — one round trip instead of a
 * BEGIN … COMMIT of four — as a named prepared statement per query shape (parsed once per
 * connection).
 */
export async function readBatch(
  pool: pg.Pool,
  schema: string,
  q: {
    metric: CompiledMetric;
    grain: Grain;
    from: number;
    to: number;
    where: Array<[string, string]>;
    deadline?: number;
  },
  poolStatementTimeoutMs?: number,
): Promise<BatchRead> {
  const s = ident(schema);
  const params: unknown[] = [q.metric.name, q.grain, q.from, q.to];
  const filters = q.where.map(([d, v]) => {
    params.push(v);
    return ` AND dims[${q.metric.dimensionNames.indexOf(d) + 1}] = $${params.length}`;
  });
  const text = `
    SELECT 0 AS k, b.partition, b.next_offset AS w, b.max_event_time AS t, b.refreshed_at AS at, l.next_offset AS loaded,
           NULL::bigint AS bucket, NULL::text[] AS dims, NULL::bigint[] AS cells
      FROM ${s}.batch_watermarks b JOIN ${s}.loader_offsets l USING (partition)
    UNION ALL
    SELECT 1, NULL, NULL, NULL, NULL, NULL, bucket, dims, cells FROM ${s}.rollups
     WHERE metric = $1 AND grain = $2 AND bucket >= $3::bigint AND bucket < $4::bigint${filters.join('')}`;
  // Postgres truncates statement names to 63 bytes: a digest of the text keeps shapes apart.
  const name = `millrace_rb_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
  const query = { name, text, values: params };
  // The connection's own statement_timeout is close enough to this deadline (the caller stops
  // waiting at the deadline anyway; Postgres stops at most DEADLINE_SLACK_MS later).
  const remaining = q.deadline === undefined ? undefined : remainingMs(q.deadline);
  const bare =
    remaining === undefined ||
    (poolStatementTimeoutMs !== undefined &&
      poolStatementTimeoutMs > 0 &&
      remaining >= poolStatementTimeoutMs - DEADLINE_SLACK_MS);
  const res = await (
    bare ? pool.query(query) : withStatementTimeout(pool, remaining, (client) => client.query(query))
  ).catch((err: Error & { code?: string }) => {
    if (err.code === '57014')
      throw new MillraceError('DEADLINE_EXCEEDED', 'the query was cancelled at its deadline', {
        retryable: true,
        cause: err,
      });
    throw err;
  });
  const wm: Array<{ p: number; w: number; t: number | null; at: number | null; loaded: number }> = [];
  const rows: BatchRead['rows'] = [];
  for (const row of res.rows) {
    if (row.k === 0) {
      wm.push({
        p: Number(row.partition),
        w: Number(row.w),
        t: row.t === null ? null : Number(row.t),
        at: row.at === null ? null : Number(row.at),
        loaded: Number(row.loaded),
      });
    } else {
      const cells = row.cells as string[];
      const out = new Array<number>(cells.length);
      for (let i = 0; i < cells.length; i++) out[i] = Number(cells[i]);
      rows.push({ bucket: Number(row.bucket), dims: row.dims as string[], cells: out });
    }
  }
  wm.sort((a, b) => a.p - b.p);
  const times = wm.map((x) => x.t).filter((t): t is number => t !== null);
  const refreshed = wm.map((x) => x.at).filter((t): t is number => t !== null);
  return {
    watermarks: wm.map((x) => x.w),
    loaded: wm.map((x) => x.loaded),
    watermarkTime: times.length ? Math.max(...times) : null,
    refreshedAt: refreshed.length ? Math.max(...refreshed) : null,
    rows,
  };
}

/**
 * The request's deadline, down to Postgres: a statement past it is cancelled server-side.
 * `SET LOCAL` needs a transaction; BEGIN and the SET travel in one simple-protocol message, so a
 * deadline costs two round trips more than the bare statement (not three).
 */
async function withStatementTimeout<T>(
  pool: pg.Pool,
  ms: number,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.trunc(ms)}`);
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    // A connection whose ROLLBACK failed is not returned to the pool.
    client.release(broken);
  }
}
