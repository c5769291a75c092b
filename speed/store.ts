import type { CellOp } from '../metrics/define-metric.ts';
import { SEP } from '../metrics/cell-key.ts';

/**
 * Speed slices are split by the hour of their events: a slice's cells live in one hash per
 * (metric, partition, slice, hour), and an index per (metric, partition) lists them by hour, so a
 * read touches only the slices whose events fall in the range it asks for (ARCHITECTURE.md, "a read
 * costs what it asks for"), however many slices the batch layer has not folded yet.
 */
export const SLICE_BUCKET_MS = 3_600_000;

/**
 * The cells a read returns: `minute` (as applied) or `hour` (each slice hour's cells summed up to
 * its hour per dimension values and cell: one cell per hour instead of up to sixty). Hour cells
 * are kept by the store itself, in the same atomic step as the minutes they sum up, so both
 * grains of a slice always agree. A question whose buckets are whole hours (hour, day, …) reads
 * `hour`: a day of one station's backlog is then 24 cells per slice hour, not 1 440.
 */
export type SpeedGrain = 'minute' | 'hour';

/**
 * The hour field of a minute cell field (`bucket␟dims…␟cell`): its bucket replaced by the start
 * of that hour. A field that does not start with its update's bucket is kept as it is.
 */
export function hourField(field: string, bucket: number): string {
  const b = `${bucket}${SEP}`;
  if (!field.startsWith(b)) return field;
  return `${bucket - (bucket % SLICE_BUCKET_MS)}${field.slice(b.length - 1)}`;
}

/** One cell update of a speed slice: `field` is `bucket␟dims…␟cellIndex` (metrics/cell-key.ts). */
export interface CellUpdate {
  metric: string;
  slice: number;
  /** The cell's time bucket (epoch ms; the speed layer keeps minutes): picks the slice's hour hash. */
  bucket: number;
  field: string;
  op: CellOp;
  value: number;
}

export interface ApplyRequest {
  partition: number;
  /** Must equal the store's current speed offset for the partition (compare-and-set). */
  fromOffset: number;
  /** The speed offset after this batch. */
  toOffset: number;
  /** When the store has no offset for the partition (fresh or flushed), accept `fromOffset` as the start. */
  initIfMissing: boolean;
  /**
   * With `initIfMissing`: the slice of `fromOffset`. An apply that starts the partition raises its
   * floor to it, so a reader holding an older batch snapshot sees that the slices before were never
   * applied here (as if pruned) and reads a new one, instead of missing them. Default 0.
   */
  initFloor?: number;
  updates: CellUpdate[];
  /** JSON text appended to the delta stream in the same atomic step (omit for none). */
  delta?: string;
  appliedAt: number;
}

export type ApplyResult =
  | { applied: true; offset: number; cursor: string | null }
  /** Refused: `offset` is the store's current offset (null when it has none). */
  | { applied: false; offset: number | null };

export interface SliceRead {
  /** Speed offsets, index = partition (null = nothing applied since the store was empty). */
  offsets: Array<number | null>;
  /** Per partition: lowest slice still kept (slices below were pruned). */
  floors: number[];
  appliedAt: number | null;
  /**
   * Per partition: the cells of each slice (one entry per slice and hour it holds; a slice can
   * appear more than once), or at grain `hour` of a block of slices `slice` … `last` (the Redis
   * store sums long backlogs up by blocks; an entry of one slice has `last` = `slice`). A block
   * never starts below `fromSlice`: a caller that keeps only slices ≥ F of a read from an
   * earlier F' < F must read again if an entry has `slice` < F ≤ `last`. With a range, only the
   * hours overlapping it are returned (whole hours: cells just outside the range may come along,
   * the caller filters by bucket). Read at grain
   * `hour`, a field's bucket is the start of its hour, or (Redis, a slice hour applied before hour
   * cells were kept) a minute: a caller combining into buckets of whole hours handles both.
   */
  slices: Array<Array<{ slice: number; last: number; fields: Record<string, number> }>>;
}

export interface TimeRange {
  from: number;
  to: number;
}

/** The slice hours overlapping `range` (all when none): first and last hour number, inclusive. */
export function hoursOf(range: TimeRange | undefined): [number, number] {
  if (!range) return [-Infinity, Infinity];
  return [Math.floor(range.from / SLICE_BUCKET_MS), Math.ceil(range.to / SLICE_BUCKET_MS) - 1];
}

export interface StoredDelta {
  cursor: string;
  data: string;
}

/**
 * The speed layer's store (ARCHITECTURE.md, protocol step 4). Every mutation is atomic and
 * idempotent by the per-partition offset. Implementations: `redis-store.ts`, `memory-store.ts`;
 * one contract suite (`store.contract.ts`) runs over both.
 */
export interface SpeedStore {
  apply(req: ApplyRequest): Promise<ApplyResult>;
  offsets(partitions: number): Promise<Array<number | null>>;
  /**
   * Read, in one atomic step, the offsets and the slices ≥ fromSlice[p] of `metric`; with `range`
   * (epoch ms, `to` exclusive) only the slices' hours that overlap it; with `dims` (the metric's
   * dimension values in definition order, null = any) only the cells of those values, filtered
   * where the cells are (a one-station question does not carry every station's cells back); at
   * `grain` (default minute; see SpeedGrain).
   */
  read(
    metric: string,
    fromSlice: number[],
    range?: TimeRange,
    dims?: ReadonlyArray<string | null>,
    grain?: SpeedGrain,
  ): Promise<SliceRead>;
  /** Delete slices below `slice` for the partition (all metrics) and raise its floor. */
  prune(partition: number, slice: number, metrics: readonly string[]): Promise<void>;
  /** Deltas strictly after `after` ('' = from the start of what is kept); waits up to blockMs. */
  readDeltas(after: string, count: number, blockMs: number, signal?: AbortSignal): Promise<StoredDelta[]>;
  /** The newest delta cursor ('' when none): a subscription without a cursor starts after it. */
  lastCursor(): Promise<string>;
  /** True when `after` is older than what the stream still keeps (the client missed deltas). */
  cursorExpired(after: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Every cursor either store hands out: `<ms or epoch>-<sequence>`, like a Redis stream id; '' is before all. */
export const CURSOR = /^(\d{1,16})-(\d{1,16})$/;

export function compareCursors(a: string, b: string): number {
  if (a === '' || b === '') return a === b ? 0 : a === '' ? -1 : 1;
  const [, am, as] = CURSOR.exec(a)!;
  const [, bm, bs] = CURSOR.exec(b)!;
  return Number(am) !== Number(bm) ? Number(am) - Number(bm) : Number(as) - Number(bs);
}
