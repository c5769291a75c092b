import type pg from 'pg';
import type { CompiledMetric } from '../metrics/define-metric.ts';
import { ident } from '../lib/ident.ts';
import { inTransaction } from '../lib/pg-tx.ts';
import { MillraceError } from '../lib/errors.ts';
import { remainingMs } from './deadline.ts';
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
 * Watermarks and rollups in ONE snapshot (REPEATABLE READ): the refresher advances W in the same
 * transaction as the rollups, so what we read is exactly "all raw rows below W".
 */
export async function readBatch(
  pool: pg.Pool,
  schema: string,
  q: { metric: CompiledMetric; grain: Grain; from: number; to: number; where: Array<[string, string]>; deadline?: number },
): Promise<BatchRead> {
  const s = ident(schema);
  const { w, r } = await inTransaction(pool, async (client) => {
    // The request's deadline, down to Postgres: a statement past it is cancelled server-side.
    if (q.deadline !== undefined) await client.query(`SET LOCAL statement_timeout = ${Math.trunc(remainingMs(q.deadline))}`);
    const w = await client.query(
      `SELECT b.partition, b.next_offset, b.max_event_time, b.refreshed_at, l.next_offset AS loaded
         FROM ${s}.batch_watermarks b JOIN ${s}.loader_offsets l USING (partition) ORDER BY b.partition`,
    );
    const params: unknown[] = [q.metric.name, q.grain, q.from, q.to];
    const filters = q.where.map(([d, v]) => {
      params.push(v);
      return ` AND dims[${q.metric.dimensionNames.indexOf(d) + 1}] = $${params.length}`;
    });
    const r = await client.query(
      `SELECT bucket, dims, cells FROM ${s}.rollups
        WHERE metric = $1 AND grain = $2 AND bucket >= $3 AND bucket < $4${filters.join('')}`,
      params,
    );
    return { w, r };
  }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY').catch((err: Error & { code?: string }) => {
    if (err.code === '57014') throw new MillraceError('DEADLINE_EXCEEDED', 'the query was cancelled at its deadline', { retryable: true, cause: err });
    throw err;
  });
  const num = (v: unknown) => (v === null ? null : Number(v));
  const times = w.rows.map((row) => num(row.max_event_time)).filter((t): t is number => t !== null);
  const refreshed = w.rows.map((row) => num(row.refreshed_at)).filter((t): t is number => t !== null);
  return {
    watermarks: w.rows.map((row) => Number(row.next_offset)),
    loaded: w.rows.map((row) => Number(row.loaded)),
    watermarkTime: times.length ? Math.max(...times) : null,
    refreshedAt: refreshed.length ? Math.max(...refreshed) : null,
    rows: r.rows.map((row) => ({ bucket: Number(row.bucket), dims: row.dims as string[], cells: (row.cells as string[]).map(Number) })),
  };
}
