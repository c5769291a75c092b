import { createHash } from 'node:crypto';
import type pg from 'pg';
import { combineCell, type CompiledMetric } from '../metrics/define-metric.ts';
import { parseCellField, stateKey } from '../metrics/cell-key.ts';
import { ident } from '../lib/ident.ts';
import { SLICE_BUCKET_MS, type SliceRead, type SpeedGrain, type SpeedStore } from '../speed/store.ts';
import { MillraceError } from '../lib/errors.ts';
import {
  GRAIN_MS,
  type Delta,
  type MetricInfo,
  type SeriesPoint,
  type SeriesQuery,
  type SeriesResult,
  type Serving,
} from './types.ts';
import { readBatch, type BatchRead } from './read-batch.ts';
import { beforeDeadline } from '../lib/deadline.ts';
import { createSharedReads } from '../lib/share-reads.ts';
import { createDeltaFeed } from './stream-deltas.ts';
import type { DeltaHubOptions } from './delta-hub.ts';
import { traced } from '../lib/tracing.ts';

export interface ServingOptions {
  pool: pg.Pool;
  schema: string;
  store: SpeedStore;
  metrics: readonly CompiledMetric[];
  partitions: number;
  slice: number;
  /** Largest number of buckets one query may span. Default 10 000. */
  maxBuckets?: number;
  /** The shared delta reader of subscriptions (batch size, blocking wait, per-subscriber queue bound). */
  deltaHub?: DeltaHubOptions;
  /**
   * How long a question's batch snapshot (rollup rows with their watermarks) is reused, ms; 0 = read
   * it every time. Default 0. See `createServing`.
   */
  batchSnapshotMs?: number;
  /**
   * The `statement_timeout` the pool's connections already have, ms (app/modules.ts sets it to
   * MILLRACE_DEADLINE_MS). A read whose own deadline is at most DEADLINE_SLACK_MS sooner than that
   * runs as the bare statement, one round trip, instead of setting its own timeout in a read-only
   * transaction (three). Default none: every read with a deadline sets its own.
   */
  poolStatementTimeoutMs?: number;
  /**
   * Identical questions (series, entity pages) asked at the same time share one read
   * (lib/share-reads.ts: never the read already running when a question arrives, so no answer
   * is older than its own read would be). Default true.
   */
  shareReads?: boolean;
}

/** Batch snapshots kept at most (one per distinct question). */
const SNAPSHOTS_KEPT = 500;

/**
 * The serving merge (ARCHITECTURE.md, step 6): rollups and watermarks from ONE Postgres snapshot,
 * then the speed slices at or above each partition's watermark from ONE atomic store read, merged
 * with the metric's monoid. No overlap (speed slices start exactly at W[p], a slice boundary) and
 * no gap (the batch holds everything below W[p]).
 *
 * A batch snapshot stays exact however old it is, as long as the speed slices from its W[p] on
 * are still kept: the answer is then the batch below its W[p] plus every speed slice from there,
 * as of the current speed offsets — a prefix of each log, as fresh as a new read. So a question
 * asked again within `batchSnapshotMs` skips Postgres and reads only the speed store; if the
 * slices it needs were pruned meanwhile (the batch layer folded them), it reads a new snapshot.
 * What ages is the snapshot's own figures in `freshness` (batch offsets and watermark time, and
 * the loaded offsets `speedLagEvents` is counted from), by at most `batchSnapshotMs` — and, when
 * the speed layer lags behind the batch layer, the answer: an exact prefix of each log, but up to
 * `batchSnapshotMs` behind what a new snapshot would hold. A response cache keyed by the data
 * version could then keep that older prefix under a newer version, so the option is off by default.
 */
export function createServing(opts: ServingOptions): Serving {
  const maxBuckets = opts.maxBuckets ?? 10_000;
  const snapshotMs = opts.batchSnapshotMs ?? 0;
  const snapshots = new Map<string, { at: number; batch: BatchRead }>();
  const snapshotOf = (key: string): BatchRead | null => {
    const e = snapshots.get(key);
    if (!e) return null;
    if (performance.now() - e.at <= snapshotMs) return e.batch;
    snapshots.delete(key);
    return null;
  };
  const keepSnapshot = (key: string, batch: BatchRead) => {
    if (snapshotMs <= 0) return;
    snapshots.delete(key); // re-inserted last: the Map's order is the age order
    snapshots.set(key, { at: performance.now(), batch });
    if (snapshots.size > SNAPSHOTS_KEPT) snapshots.delete(snapshots.keys().next().value!);
  };
  const byName = new Map(opts.metrics.map((m) => [m.name, m]));
  let lastFromSlice: number[] = Array.from({ length: opts.partitions }, () => 0);
  // One store reader for every subscription of this instance (delta-hub.ts).
  const feed = createDeltaFeed(opts.store, opts.metrics, opts.deltaHub);

  const share = opts.shareReads !== false;
  const shared = createSharedReads((q: SeriesQuery, deadline: number | undefined) =>
    seriesUntraced({ ...q, deadline }),
  );
  const series = (q: SeriesQuery): Promise<SeriesResult> =>
    traced(
      'serving.series',
      { 'millrace.metric': q.metric, 'millrace.grain': q.grain, 'millrace.from': q.from, 'millrace.to': q.to },
      () => (share ? shared.read(questionKey(q), q, q.deadline) : seriesUntraced(q)),
    );
  // One span per store read: the batch layer's snapshot (Postgres) and the speed slices (Redis).
  const readRollups = (q: Parameters<typeof readBatch>[2]) =>
    traced('postgres.read-batch', { 'db.system': 'postgresql', 'millrace.metric': q.metric.name }, () =>
      readBatch(opts.pool, opts.schema, q, opts.poolStatementTimeoutMs),
    );
  const readSlices = (
    metric: string,
    fromSlice: number[],
    range: { from: number; to: number },
    dims: ReadonlyArray<string | null>,
    grain: SpeedGrain,
  ) =>
    traced('redis.read-slices', { 'db.system': 'redis', 'millrace.metric': metric }, () =>
      opts.store.read(metric, fromSlice, range, dims, grain),
    );
  const query = (name: string, text: string, values: unknown[]) =>
    traced(`postgres.${name}`, { 'db.system': 'postgresql' }, () => opts.pool.query(text, values));

  async function seriesUntraced(q: SeriesQuery): Promise<SeriesResult> {
    const metric = byName.get(q.metric);
    if (!metric) throw new MillraceError('BAD_USER_INPUT', `unknown metric ${JSON.stringify(q.metric)}`);
    const g = GRAIN_MS[q.grain];
    if (!g) throw new MillraceError('BAD_USER_INPUT', `unknown grain ${JSON.stringify(q.grain)}`);
    const from = Math.floor(q.from / g) * g;
    const to = Math.ceil(q.to / g) * g;
    if (!(to > from)) throw new MillraceError('BAD_USER_INPUT', '`from` must be before `to`');
    if ((to - from) / g > maxBuckets) {
      throw new MillraceError(
        'BAD_USER_INPUT',
        `range spans ${(to - from) / g} ${q.grain} buckets; the limit is ${maxBuckets}`,
      );
    }
    const where = Object.entries(q.where ?? {});
    for (const [d] of where) {
      if (!metric.dimensionNames.includes(d))
        throw new MillraceError('BAD_USER_INPUT', `metric ${metric.name} has no dimension ${d}`);
    }
    // The batch and speed reads run concurrently: the speed read starts from the watermarks the
    // previous query saw (W only grows, so it returns a superset) and slices below this snapshot's
    // W[p] are dropped before merging. The answer is then the batch below W[p] plus the speed
    // slices from W[p] on, as of one atomic store read: a prefix of each partition's log, as in
    // the sequential protocol (ARCHITECTURE.md §6). If W ever moved back (a rebuild), or slices
    // this snapshot needs were pruned in between, the speed read is simply done again.
    // The speed cells of `where`'s values only, filtered in the store (mergeLayers checks again).
    const dims = metric.dimensionNames.map((d) => q.where?.[d] ?? null);
    const key = `${metric.name}|${q.grain}|${from}|${to}|${JSON.stringify(dims)}`;
    // Buckets of whole hours (so `from` and `to` are hours too) take the speed cells summed up to
    // the hour: a day of backlog is 24 cells per slice hour instead of up to 1 440 minutes.
    const speedGrain: SpeedGrain = g % SLICE_BUCKET_MS === 0 ? 'hour' : 'minute';
    const readSpeed = (fromSlice: number[]) =>
      beforeDeadline(() => readSlices(metric.name, fromSlice, { from, to }, dims, speedGrain), q.deadline);
    for (let attempt = 0; ; attempt++) {
      const kept = attempt === 0 ? snapshotOf(key) : null;
      let batch: BatchRead;
      let speed: SliceRead;
      let fromSlice: number[];
      if (kept) {
        batch = kept;
        fromSlice = batch.watermarks.map((w) => Math.floor(w / opts.slice));
        speed = await readSpeed(fromSlice);
      } else {
        const guess = lastFromSlice;
        let early: SliceRead;
        [batch, early] = await Promise.all([
          readRollups({ metric, grain: q.grain, from, to, where, deadline: q.deadline }),
          readSpeed(guess),
        ]);
        fromSlice = batch.watermarks.map((w) => Math.floor(w / opts.slice));
        lastFromSlice = fromSlice;
        // Read again if the guess was above this snapshot's W, or a block of slices read from the
        // guess straddles it (its cells cannot be split: speed/store.ts SliceRead).
        speed = fromSlice.some(
          (f, p) => (guess[p] ?? 0) > f || early.slices[p]?.some((e) => e.slice < f && e.last >= f),
        )
          ? await readSpeed(fromSlice)
          : early;
        keepSnapshot(key, batch);
      }
      if (speed.floors.some((f, p) => f > fromSlice[p])) {
        snapshots.delete(key);
        if (attempt < 3) continue;
        throw new MillraceError('UNAVAILABLE', 'speed slices were pruned while reading; try again', {
          retryable: true,
        });
      }
      speed.slices = speed.slices.map((perP, p) => perP.filter((e) => e.slice >= fromSlice[p]));
      const { points, batchValue, speedValue } = mergeLayers(metric, g, from, to, where, batch.rows, speed.slices);
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
          speedLagEvents: batch.loaded.reduce(
            (sum, l, p) => sum + Math.max(0, l - Math.max(speedOffsets[p], batch.watermarks[p])),
            0,
          ),
          speedAppliedAt: speed.appliedAt,
          batchShare: total === 0 ? 0 : batchValue / total,
          speedShare: total === 0 ? 0 : speedValue / total,
        },
      };
    }
  }

  const s = ident(opts.schema);
  const versionText = `SELECT b.partition, b.next_offset AS w, b.refreshed_at AS at, l.next_offset AS loaded
    FROM ${s}.batch_watermarks b JOIN ${s}.loader_offsets l USING (partition) ORDER BY b.partition`;
  // Named per text (a pool may serve several schemas): parsed once per connection.
  const versionQuery = {
    name: `millrace_dv_${createHash('sha1').update(versionText).digest('hex').slice(0, 24)}`,
    text: versionText,
  };
  const readEntities = async (q: { entity: string; limit: number; after?: string | null }) => {
    const r = await query(
      'entities',
      `SELECT entity, key, version, data, deleted FROM ${s}.entities WHERE entity = $1 AND ($3::text IS NULL OR key > $3) ORDER BY key LIMIT $2`,
      [q.entity, q.limit, q.after ?? null],
    );
    return r.rows.map((x) => ({
      entity: x.entity,
      key: x.key,
      version: x.version,
      data: x.data,
      deleted: x.deleted,
    }));
  };
  const sharedEntities = createSharedReads(readEntities);
  return {
    series,
    async deadLetters(q) {
      const r = await query(
        'dead-letters',
        `SELECT id, connector, source, position, reason, raw, created_at FROM ${s}.dead_letters
          WHERE ($1::text IS NULL OR connector = $1) AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $2`,
        [q.connector ?? null, q.limit, q.beforeId ?? null],
      );
      return r.rows.map((x) => ({
        id: Number(x.id),
        connector: x.connector,
        source: x.source,
        position: x.position,
        reason: x.reason,
        raw: x.raw,
        createdAt: new Date(x.created_at).getTime(),
      }));
    },
    entities: (q) =>
      share ? sharedEntities.read(JSON.stringify([q.entity, q.limit, q.after ?? null]), q, undefined) : readEntities(q),
    async openPairings(pairing) {
      const r = await query('pairings', `SELECT key, start_time FROM ${s}.pairings WHERE pairing = $1 ORDER BY key`, [
        pairing,
      ]);
      return r.rows.map((x) => ({ key: x.key, startTime: Number(x.start_time) }));
    },
    deltas: (o: { after?: string | null; signal?: AbortSignal }): AsyncIterable<Delta> => feed.deltas(o),
    deltaFeed: feed.stats,
    lastCursor: async () => (await opts.store.lastCursor()) || null,
    async dataVersion() {
      // Two cheap reads side by side; each part only grows, so reading them apart is safe (see Serving).
      const [r, speed] = await Promise.all([opts.pool.query(versionQuery), opts.store.offsets(opts.partitions)]);
      const batch = r.rows.map((x) => `${x.partition}:${x.w}@${x.at ?? ''}/${x.loaded}`).join(',');
      return `${batch}|${speed.map((o) => o ?? '-').join(',')}`;
    },
    // Absent when reads are not shared: they are then not counted here.
    ...(share && {
      readStats: () => {
        const [a, b] = [shared.stats(), sharedEntities.stats()];
        return { reads: a.reads + b.reads, shared: a.shared + b.shared };
      },
    }),
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

/** What makes two series questions the same one (everything but the deadline). */
function questionKey(q: SeriesQuery): string {
  const where = Object.entries(q.where ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([q.metric, q.grain, q.from, q.to, where]);
}

/**
 * Batch rows plus speed cells, combined per (bucket at the query's grain, dims) with the metric's
 * monoid. Speed cells are minutes, or hours when the query's buckets are whole hours: those
 * outside [from, to) (the store returns whole hours) or not matching `where` are skipped.
 */
function mergeLayers(
  metric: CompiledMetric,
  g: number,
  from: number,
  to: number,
  where: Array<[string, string]>,
  rows: BatchRead['rows'],
  speedSlices: SliceRead['slices'],
) {
  const acc = new Map<string, { bucket: number; dims: string[]; cells: number[] }>();
  let batchValue = 0;
  for (const r of rows) {
    // A copy: the speed cells are combined into it, and the batch rows may be a kept snapshot.
    acc.set(stateKey(r.bucket, r.dims), { bucket: r.bucket, dims: r.dims, cells: r.cells.slice() });
    batchValue += r.cells[0];
  }
  let speedValue = 0;
  const dimIndex = where.map(([d, v]) => [metric.dimensionNames.indexOf(d), v] as const);
  for (const perP of speedSlices) {
    for (const { fields } of perP) {
      for (const field in fields) {
        const value = fields[field];
        const { bucket: minute, dims, cell } = parseCellField(field);
        if (minute < from || minute >= to) continue;
        if (dimIndex.some(([i, v]) => dims[i] !== v)) continue;
        const bucket = Math.floor(minute / g) * g;
        const key = stateKey(bucket, dims);
        // Multi-cell states (histograms) are all sums, so a cell not seen yet is 0;
        // min/max metrics have a single cell.
        const prev = acc.get(key);
        if (prev) prev.cells[cell] = combineCell(metric.cellOps[cell], prev.cells[cell], value);
        else {
          const cells = metric.cellOps.map(() => 0);
          cells[cell] = value;
          acc.set(key, { bucket, dims, cells });
        }
        if (cell === 0) speedValue += value;
      }
    }
  }
  const sorted = [...acc.entries()].sort(([ka, a], [kb, b]) => a.bucket - b.bucket || (ka < kb ? -1 : ka > kb ? 1 : 0));
  const points: SeriesPoint[] = sorted.map(([, { bucket, dims, cells }]) => {
    const named: Record<string, string> = {};
    metric.dimensionNames.forEach((d, i) => (named[d] = dims[i] ?? ''));
    return { bucket, dims: named, cells, value: cells[0] };
  });
  return { points, batchValue, speedValue };
}
