import { MillraceError } from '../lib/errors.ts';
import type { Delta, Freshness as ServingFreshness, MetricInfo, SeriesResult } from '../serving/types.ts';
import type { FloorMap, FloorStation } from './context.ts';
import type { Freshness, MetricSeries, ProductionMetric, Resolvers } from './generated/production.ts';
import { abortableDeltas, type DeltaEvent } from './abortable-deltas.ts';
import { histogramFromCells } from './histogram.ts';
import { createGenericQueries } from './generic.ts';
import { badInput, iso, parseRange, requireStation } from './validate-args.ts';

/** Options of the production resolvers. */
export interface ProductionResolverOptions {
  /** Largest number of buckets one `productionSeries` may span. Default 5000. */
  maxBuckets?: number;
}

// Enum resolvers: GraphQL UPPER_CASE names ↔ the metric and grain names the serving layer uses.
const PRODUCTION_METRIC = { PARTS_ENTERED: 'parts_entered', PARTS_EXITED: 'parts_exited', STATION_ERRORS: 'station_errors', CYCLE_TIME: 'cycle_time' } as const;
const GRAIN = { MINUTE: 'minute', HOUR: 'hour', DAY: 'day' } as const;

/** Resolvers of the production subgraph (schema/production.graphql); serving and floor come from the context. */
export function createProductionResolvers(opts: ProductionResolverOptions = {}): Resolvers {
  const maxBuckets = opts.maxBuckets ?? 5000;
  return {
    ProductionMetric: PRODUCTION_METRIC,
    Grain: GRAIN,
    Query: {
      ...createGenericQueries({ maxBuckets }),
      stations: (_root, _args, ctx) => ctx.floor.stations,
      station: (_root, { id }, ctx) => ctx.floor.stations.find((s) => s.id === id) ?? null,
      productionSeries: async (_root, args, ctx) => {
        const { from, to } = parseRange(args, { grain: args.grain, maxBuckets });
        const info = metricInfo(ctx.serving.metrics(), args.metric);
        const where: Record<string, string> = {};
        if (args.station != null) where.station = requireStation(ctx.floor, args.station).id;
        if (args.errorCode != null) {
          if (!info.dimensions.includes('errorCode')) throw badInput(`\`errorCode\` only filters STATION_ERRORS, not ${args.metric.toUpperCase()}`);
          where.errorCode = args.errorCode;
        }
        const result = await ctx.serving.series({ metric: info.name, grain: args.grain, from, to, where, deadline: ctx.deadline });
        return toSeries(result, info, ctx.floor);
      },
    },
    Station: {
      __resolveReference: (ref, ctx) => ctx.floor.stations.find((s) => s.id === ref.id) ?? null,
    },
    Subscription: {
      productionDeltas: {
        subscribe: (_root, args, ctx) => {
          // Deltas carry every domain's metrics; this subscription speaks the production ones.
          const wanted = new Set<string>(args.metrics?.length ? args.metrics : Object.values(PRODUCTION_METRIC));
          return abortableDeltas(ctx.serving, {
            after: args.after ?? null,
            // Empty deltas are kept: they still advance the client's cursor.
            keep: (d) => ({ ...d, items: d.items.filter((i) => wanted.has(i.metric)) }),
          });
        },
        resolve: (event: DeltaEvent) => {
          // Thrown here, the feed's error becomes this event's GraphQL error (a MillraceError keeps
          // its code, e.g. CURSOR_EXPIRED, through the subgraph's error mask).
          if ('error' in event) throw event.error;
          return toDelta(event.delta);
        },
      },
    },
  };
}

function metricInfo(metrics: MetricInfo[], name: ProductionMetric): MetricInfo {
  const info = metrics.find((m) => m.name === name);
  // The enum and the metric definitions are both ours: a mismatch is a deployment bug, not user input.
  if (!info) throw new MillraceError('INTERNAL', `metric ${name} is in the schema but not served`);
  return info;
}

function toSeries(r: SeriesResult, info: MetricInfo, floor: FloorMap): MetricSeries {
  const byId = new Map(floor.stations.map((s) => [s.id, s]));
  const points = r.points.map((p) => ({
    bucket: iso(p.bucket),
    station: byId.get(p.dims.station) ?? unmappedStation(p.dims.station),
    errorCode: p.dims.errorCode || null,
    value: p.value,
    histogram: info.bounds ? histogramFromCells(info.bounds, p.cells) : null,
  }));
  return {
    metric: r.metric as ProductionMetric,
    grain: r.grain,
    from: iso(r.from),
    to: iso(r.to),
    points,
    total: r.points.reduce((sum, p) => sum + p.value, 0),
    freshness: toFreshness(r.freshness),
  };
}

// Data for a station the floor map does not know (renamed, or a map older than the data) is
// still counted: dropping it would make `total` disagree with the points.
function unmappedStation(id: string): FloorStation {
  return { id, name: id, zone: '', department: '', x: 0, y: 0 };
}

function toFreshness(f: ServingFreshness): Freshness {
  return {
    asOf: iso(f.asOf),
    batchOffsets: f.batchOffsets,
    batchWatermark: iso(f.batchWatermarkTime),
    batchRefreshedAt: iso(f.batchRefreshedAt),
    speedOffsets: f.speedOffsets,
    speedLagEvents: f.speedLagEvents,
    speedAppliedAt: iso(f.speedAppliedAt),
    batchShare: f.batchShare,
    speedShare: f.speedShare,
  };
}

function toDelta(d: Delta) {
  return {
    cursor: d.cursor,
    partition: d.partition,
    fromOffset: d.fromOffset,
    toOffset: d.toOffset,
    appliedAt: iso(d.appliedAt),
    maxEventTime: iso(d.maxEventTime),
    items: d.items.map((i) => ({
      metric: i.metric as ProductionMetric,
      bucket: iso(i.bucket),
      station: i.dims.station ?? '',
      errorCode: i.dims.errorCode || null,
      // The headline cell: a count's increment, a histogram's number of new observations.
      value: i.cells[0] ?? 0,
    })),
  };
}
