import { MillraceError } from '../../lib/errors.ts';
import type { Delta, MetricInfo, SeriesResult } from '../../serving/types.ts';
import type { ProductionMetric, QueryResolvers, SubscriptionResolvers } from '../generated/production.ts';
import { abortableDeltas, type DeltaEvent } from '../abortable-deltas.ts';
import { histogramFromCells } from '../histogram.ts';
import { badInput, iso, parseRange } from '../validate-args.ts';
import { toFreshness } from '../shared/window.ts';
import type { Directory, StationRecord } from '../shared/directory.ts';

// Enum resolvers: GraphQL UPPER_CASE names ↔ the metric names the serving layer uses.
const PRODUCTION_METRIC = {
  PARTS_ENTERED: 'parts_entered',
  PARTS_EXITED: 'parts_exited',
  STATION_ERRORS: 'station_errors',
  CYCLE_TIME: 'cycle_time',
} as const;
const ROLLUP_GRAINS = new Set(['minute', 'hour', 'day']);

/**
 * The metric-level production API (`productionSeries`, `productionDeltas`): rollup buckets in UTC as
 * the layers keep them. `verify` checks every production metric through `productionSeries`.
 */
export function createSeriesResolvers(opts: { maxBuckets: number }) {
  const productionSeries: QueryResolvers['productionSeries'] = async (_root, args, ctx) => {
    if (!ROLLUP_GRAINS.has(args.grain))
      throw badInput(
        '`productionSeries` answers MINUTE, HOUR or DAY (UTC); use `production` for SHIFT, WEEK, MONTH or a time zone',
      );
    const grain = args.grain as 'minute' | 'hour' | 'day';
    const { from, to } = parseRange(args, { grain, maxBuckets: opts.maxBuckets });
    const info = metricInfo(ctx.serving.metrics(), args.metric);
    const where: Record<string, string> = {};
    if (args.station != null) where.station = args.station;
    if (args.errorCode != null) {
      if (!info.dimensions.includes('errorCode'))
        throw badInput(`\`errorCode\` only filters STATION_ERRORS, not ${args.metric.toUpperCase()}`);
      where.errorCode = args.errorCode;
    }
    // The floor and the series side by side (two reads, one wait); a station the floor does not
    // have is refused once both are in (its series is empty, and not returned).
    const [dir, result] = await Promise.all([
      ctx.loaders.directory(),
      ctx.serving.series({ metric: info.name, grain, from, to, where, deadline: ctx.deadline }),
    ]);
    if (args.station != null && !dir.station(args.station))
      throw badInput(
        `unknown station ${JSON.stringify(args.station)}; known: ${dir.stations.map((s) => s.id).join(', ')}`,
      );
    return toSeries(result, info, dir);
  };

  const productionDeltas: SubscriptionResolvers['productionDeltas'] = {
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
  };

  return { ProductionMetric: PRODUCTION_METRIC, productionSeries, productionDeltas };
}

function metricInfo(metrics: MetricInfo[], name: ProductionMetric): MetricInfo {
  const info = metrics.find((m) => m.name === name);
  // The enum and the metric definitions are both ours: a mismatch is a deployment bug, not user input.
  if (!info) throw new MillraceError('INTERNAL', `metric ${name} is in the schema but not served`);
  return info;
}

function toSeries(r: SeriesResult, info: MetricInfo, dir: Directory) {
  const points = r.points.map((p) => ({
    bucket: iso(p.bucket),
    station: dir.station(p.dims.station) ?? unmappedStation(p.dims.station),
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
function unmappedStation(id: string): StationRecord {
  return { id, name: id, zone: '', department: '', x: 0, y: 0, machines: [], flowIndex: null, idealCycleSec: null };
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
