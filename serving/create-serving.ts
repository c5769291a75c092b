import type pg from 'pg';
import type { CellOp, CompiledMetric } from '../metrics/define-metric.ts';
import { SEP } from '../metrics/compile-reducer.ts';
import { ident } from '../lib/ident.ts';
import type { SpeedStore } from '../speed/store.ts';
import { MillraceError } from '../lib/errors.ts';
import { GRAIN_MS, type Delta, type MetricInfo, type SeriesPoint, type SeriesQuery, type SeriesResult, type Serving } from './types.ts';
import { readBatch } from './read-batch.ts';
import { beforeDeadline } from './deadline.ts';
import { streamDeltas } from './stream-deltas.ts';

export interface ServingOptions {
  pool: pg.Pool;
  schema: string;
  store: SpeedStore;
  metrics: readonly CompiledMetric[];
  partitions: number;
  slice: number;
  /** Largest number of buckets one query may span. Default 10 000. */
  maxBuckets?: number;
}

/**
 * The serving merge (ARCHITECTURE.md, step 6): rollups and watermarks from ONE Postgres snapshot,
 * then the speed slices at or above each partition's watermark from ONE atomic store read, merged
 * with the metric's monoid. No overlap (speed slices start exactly at W[p], a slice boundary) and
 * no gap (the batch holds everything below W[p]).
 */
export function createServing(opts: ServingOptions): Serving {
  const maxBuckets = opts.maxBuckets ?? 10_000;
  const byName = new Map(opts.metrics.map((m) => [m.name, m]));

  async function series(q: SeriesQuery): Promise<SeriesResult> {
    const metric = byName.get(q.metric);
    if (!metric) throw new MillraceError('BAD_USER_INPUT', `unknown metric ${JSON.stringify(q.metric)}`);
    const g = GRAIN_MS[q.grain];
    if (!g) throw new MillraceError('BAD_USER_INPUT', `unknown grain ${JSON.stringify(q.grain)}`);
    const from = Math.floor(q.from / g) * g;
    const to = Math.ceil(q.to / g) * g;
    if (!(to > from)) throw new MillraceError('BAD_USER_INPUT', '`from` must be before `to`');
    if ((to - from) / g > maxBuckets) {
      throw new MillraceError('BAD_USER_INPUT', `range spans ${(to - from) / g} ${q.grain} buckets; the limit is ${maxBuckets}`);
    }
    const where = Object.entries(q.where ?? {});
    for (const [d] of where) {
      if (!metric.dimensionNames.includes(d)) throw new MillraceError('BAD_USER_INPUT', `metric ${metric.name} has no dimension ${d}`);
    }
    // A query that straddles a prune of slices it needs simply runs again on a newer snapshot.
    for (let attempt = 0; ; attempt++) {
      const batch = await readBatch(opts.pool, opts.schema, { metric, grain: q.grain, from, to, where, deadline: q.deadline });
      const fromSlice = batch.watermarks.map((w) => Math.floor(w / opts.slice));
      const speed = await beforeDeadline(() => opts.store.read(metric.name, fromSlice), q.deadline);
      if (speed.floors.some((f, p) => f > fromSlice[p])) {
        if (attempt < 3) continue;
        throw new MillraceError('UNAVAILABLE', 'speed slices were pruned while reading; try again', { retryable: true });
      }
      const acc = new Map<string, number[]>();
      let batchValue = 0;
      for (const r of batch.rows) {
        acc.set([r.bucket, ...r.dims].join(SEP), r.cells);
        batchValue += r.cells[0];
      }
      let speedValue = 0;
      const dimIndex = where.map(([d, v]) => [metric.dimensionNames.indexOf(d), v] as const);
      for (const perP of speed.slices) {
        for (const { fields } of perP) {
          for (const [field, value] of Object.entries(fields)) {
            const parts = field.split(SEP);
            const minute = Number(parts[0]);
            if (minute < from || minute >= to) continue;
            const dims = parts.slice(1, -1);
            if (dimIndex.some(([i, v]) => dims[i] !== v)) continue;
            const cell = Number(parts[parts.length - 1]);
            const key = [Math.floor(minute / g) * g, ...dims].join(SEP);
            // Multi-cell states (histograms) are all sums, so a cell not seen yet is 0;
            // min/max metrics have a single cell.
            const prev = acc.get(key);
            if (prev) prev[cell] = combineCell(metric.cellOps[cell], prev[cell], value);
            else {
              const cells = metric.cellOps.map(() => 0);
              cells[cell] = value;
              acc.set(key, cells);
            }
            if (cell === 0) speedValue += value;
          }
        }
      }
      const points: SeriesPoint[] = [...acc.entries()]
        .map(([key, cells]) => {
          const [bucket, ...dims] = key.split(SEP);
          return { bucket: Number(bucket), dims: Object.fromEntries(metric.dimensionNames.map((d, i) => [d, dims[i]])), cells, value: cells[0] };
        })
        .sort((a, b) => a.bucket - b.bucket || JSON.stringify(a.dims).localeCompare(JSON.stringify(b.dims)));
      const total = batchValue + speedValue;
      const speedOffsets = speed.offsets.map((o, p) => o ?? batch.watermarks[p]);
      return {
        metric: metric.name,
        grain: q.grain,
        from,
        to,
        points,
        freshness: {
          asOf: Date.now(),
          batchOffsets: batch.watermarks,
          batchWatermarkTime: batch.watermarkTime,
          batchRefreshedAt: batch.refreshedAt,
          speedOffsets,
          speedLagEvents: batch.loaded.reduce((sum, l, p) => sum + Math.max(0, l - Math.max(speedOffsets[p], batch.watermarks[p])), 0),
          speedAppliedAt: speed.appliedAt,
          batchShare: total === 0 ? 0 : batchValue / total,
          speedShare: total === 0 ? 0 : speedValue / total,
        },
      };
    }
  }

  const s = ident(opts.schema);
  return {
    series,
    async deadLetters(q) {
      const r = await opts.pool.query(
        `SELECT id, connector, source, position, reason, raw, created_at FROM ${s}.dead_letters
          WHERE ($1::text IS NULL OR connector = $1) AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $2`,
        [q.connector ?? null, q.limit, q.beforeId ?? null],
      );
      return r.rows.map((x) => ({ id: Number(x.id), connector: x.connector, source: x.source, position: x.position, reason: x.reason, raw: x.raw, createdAt: new Date(x.created_at).getTime() }));
    },
    async entities(q) {
      const r = await opts.pool.query(
        `SELECT entity, key, version, data, deleted FROM ${s}.entities WHERE entity = $1 AND ($3::text IS NULL OR key > $3) ORDER BY key LIMIT $2`,
        [q.entity, q.limit, q.after ?? null],
      );
      return r.rows.map((x) => ({ entity: x.entity, key: x.key, version: x.version, data: x.data, deleted: x.deleted }));
    },
    async openPairings(pairing) {
      const r = await opts.pool.query(`SELECT key, start_time FROM ${s}.pairings WHERE pairing = $1 ORDER BY key`, [pairing]);
      return r.rows.map((x) => ({ key: x.key, startTime: Number(x.start_time) }));
    },
    deltas: (o: { after?: string | null; signal?: AbortSignal }): AsyncIterable<Delta> => streamDeltas(opts.store, opts.metrics, o),
    lastCursor: async () => (await opts.store.lastCursor()) || null,
    metrics: (): MetricInfo[] =>
      opts.metrics.map((m) => ({
        name: m.name,
        domain: m.domain,
        description: m.description,
        dimensions: [...m.dimensionNames],
        personalDimensions: [...(m.personal ?? [])],
        aggregate: m.aggregate.kind,
        bounds: m.aggregate.kind === 'histogram' ? [...m.aggregate.bounds] : null,
        unit: m.unit ?? null,
      })),
  };
}

function combineCell(op: CellOp, a: number, b: number): number {
  return op === 'sum' ? a + b : op === 'min' ? Math.min(a, b) : Math.max(a, b);
}
