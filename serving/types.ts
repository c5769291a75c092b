/** What the serving layer answers; resolvers shape it into GraphQL. */
import type { Grain } from '../metrics/grain.ts';
import type { DeltaHubStats } from './delta-hub.ts';
import type { SharedReadStats } from '../lib/share-reads.ts';

// Grains are the metrics' (the lowest layer that needs them); serving re-exports them for its callers.
export { GRAIN_MS, type Grain } from '../metrics/grain.ts';

export interface SeriesQuery {
  /** Metric name (see metrics/). */
  metric: string;
  grain: Grain;
  /** Inclusive start, epoch ms; rounded down to the grain. */
  from: number;
  /** Exclusive end, epoch ms; rounded up to the grain. */
  to: number;
  /** Dimension filters, e.g. { station: 'DIE' }. */
  where?: Record<string, string>;
  /** Epoch ms the caller stops waiting at (the request's deadline): Postgres gets it as statement_timeout, the store read is abandoned at it. Default none. */
  deadline?: number;
}

export interface SeriesPoint {
  /** Bucket start, epoch ms. */
  bucket: number;
  dims: Record<string, string>;
  /** The metric's state cells (see define-metric.ts). */
  cells: number[];
  /** Headline value: count/sum/min/max; a histogram's count. */
  value: number;
}

export interface Freshness {
  /** Time the answer was assembled, epoch ms. */
  asOf: number;
  /** Batch watermark per log partition (offsets folded into rollups). */
  batchOffsets: number[];
  /** Latest event time folded into the rollups, epoch ms (null before the first refresh). */
  batchWatermarkTime: number | null;
  /** When the batch layer last advanced, epoch ms. */
  batchRefreshedAt: number | null;
  /** Speed offsets per partition (events applied to the speed layer). */
  speedOffsets: number[];
  /** Events accepted by the loader but not yet in the speed layer, summed over partitions. */
  speedLagEvents: number;
  /** When the speed layer last applied a batch, epoch ms. */
  speedAppliedAt: number | null;
  /** Share of the answer's headline value that came from each layer (0..1; both 0 when empty). */
  batchShare: number;
  speedShare: number;
}

export interface SeriesResult {
  metric: string;
  grain: Grain;
  from: number;
  to: number;
  points: SeriesPoint[];
  freshness: Freshness;
}

export interface DeltaItem {
  metric: string;
  /** Minute bucket start, epoch ms. */
  bucket: number;
  dims: Record<string, string>;
  cells: number[];
}

/** What one speed-layer apply added: resumable by `cursor`, positioned by partition/offsets. */
export interface Delta {
  cursor: string;
  partition: number;
  fromOffset: number;
  toOffset: number;
  appliedAt: number;
  /** Largest event time in the batch, epoch ms. */
  maxEventTime: number | null;
  items: DeltaItem[];
}

export interface MetricInfo {
  name: string;
  domain: string;
  description: string;
  dimensions: string[];
  /** Dimensions whose values are personal data (see MetricDefinition.personal). */
  personalDimensions: string[];
  aggregate: string;
  bounds: number[] | null;
  unit: string | null;
}

export interface DeadLetterRow {
  /** Store id: newer letters have larger ids. */
  id: number;
  connector: string;
  source: string;
  position: string;
  reason: string;
  raw: string;
  createdAt: number;
}

export interface EntityRow {
  entity: string;
  key: string;
  version: string;
  data: unknown;
  deleted: boolean;
}

/** A start event still waiting for its end (loader/state.ts pairings), e.g. a tool out of the crib now. */
export interface OpenPairing {
  key: string;
  /** Event time of the start, epoch ms. */
  startTime: number;
}

export interface Serving {
  series(q: SeriesQuery): Promise<SeriesResult>;
  /** Newest dead letters first, optionally of one connector. */
  deadLetters(q: {
    connector?: string | null;
    limit: number;
    /** Only letters older than this id (paging). */ beforeId?: number | null;
  }): Promise<DeadLetterRow[]>;
  /** Current state of one entity kind. */
  /** Keys in order; `after` (exclusive) pages on from the last key of the previous page. */
  entities(q: { entity: string; limit: number; after?: string | null }): Promise<EntityRow[]>;
  /** Deltas after `after` (a cursor; null = only new ones), until `signal` aborts. */
  deltas(opts: { after?: string | null; signal?: AbortSignal }): AsyncIterable<Delta>;
  /** What the shared delta reader holds now (subscribers, readers); absent where deltas are not read from a store. */
  deltaFeed?(): DeltaHubStats;
  /** Series and entity reads run, and questions answered by a read an identical one started (lib/share-reads.ts); absent where reads are not shared. */
  readStats?(): SharedReadStats;
  /** The cursor of the newest delta kept (null when none): deltas after it are the ones still to come. */
  lastCursor(): Promise<string | null>;
  metrics(): MetricInfo[];
  /** Open pairings of one kind (e.g. `tool-use`: tools checked out now), in key order. */
  openPairings(pairing: string): Promise<OpenPairing[]>;
  /**
   * The version of everything `series`, `entities` and `openPairings` answer from, as one opaque
   * string: per partition the batch watermark and when it last moved, the loader offset (current
   * state, pairings, the speed lag) and the speed offset. Each part moves in the same transaction
   * or atomic step as the data it covers and never moves back in normal operation, so two equal
   * reads mean none of those answers changed in between (the gateway's response cache relies on
   * it). Dead letters are not covered.
   */
  dataVersion(): Promise<string>;
}
