import type { CellOp } from '../metrics/define-metric.ts';

/** One cell update of a speed slice: `field` is `bucket␟dims…␟cellIndex`. */
export interface CellUpdate {
  metric: string;
  slice: number;
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
  /** Per partition: field → value, summed over nothing: one entry per (slice, field). */
  slices: Array<Array<{ slice: number; fields: Record<string, number> }>>;
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
  /** Read, in one atomic step, the offsets and every slice ≥ fromSlice[p] of `metric`. */
  read(metric: string, fromSlice: number[]): Promise<SliceRead>;
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

export function cellField(key: string, cell: number): string {
  return `${key}\u001f${cell}`;
}
