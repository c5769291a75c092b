import { GRAIN_MS, type Grain, type Serving } from '../serving/types.ts';
import type { Resolvers } from './generated/quality.ts';
import { badInput, parseRange } from './validate-args.ts';

/** Options of the quality resolvers. */
export interface QualityResolverOptions {
  /** Largest number of buckets one `errorCount`/`errorRate` may read (summed over its segments). Default 5000. */
  maxBuckets?: number;
}

/**
 * Resolvers of the quality subgraph (schema/quality.graphql): quality's fields on the Station
 * entity owned by production, computed from the production metrics station_errors and parts_exited.
 */
export function createQualityResolvers(opts: QualityResolverOptions = {}): Resolvers {
  const maxBuckets = opts.maxBuckets ?? 5000;

  async function total(serving: Serving, metric: string, station: string, args: { from: string; to: string }, deadline?: number): Promise<number> {
    const { from, to } = parseRange(args);
    const segments = coverRange(from, to);
    const buckets = segments.reduce((n, s) => n + bucketsOf(s), 0);
    if (buckets > maxBuckets) throw badInput(`the range needs ${buckets} buckets; the limit is ${maxBuckets}`);
    const results = await Promise.all(segments.map((s) => serving.series({ metric, grain: s.grain, from: s.from, to: s.to, where: { station }, deadline })));
    return results.reduce((sum, r) => sum + r.points.reduce((a, p) => a + p.value, 0), 0);
  }

  return {
    Station: {
      // Quality has no station data of its own: any id the floor knows is a station.
      __resolveReference: (ref, ctx) => (ctx.floor.stations.some((s) => s.id === ref.id) ? { __typename: 'Station', id: ref.id } : null),
      errorCount: (station, args, ctx) => total(ctx.serving, 'station_errors', station.id, args, ctx.deadline),
      errorRate: async (station, args, ctx) => {
        const [errors, exits] = await Promise.all([
          total(ctx.serving, 'station_errors', station.id, args, ctx.deadline),
          total(ctx.serving, 'parts_exited', station.id, args, ctx.deadline),
        ]);
        return exits === 0 ? null : errors / exits;
      },
    },
  };
}

/** One piece of a range, read at one grain. */
export interface RangeSegment {
  grain: Grain;
  from: number;
  to: number;
}

/**
 * Split [from, to) (rounded outward to minutes, as the serving layer rounds) into at most five
 * aligned segments: minutes up to the first hour, hours up to the first day, whole days, then
 * hours and minutes after the last day. The sum over the segments equals the minute-grain sum,
 * but a week costs ~7 day buckets + < 48 hour + < 120 minute buckets instead of 10 080 minutes.
 */
export function coverRange(from: number, to: number): RangeSegment[] {
  const m = GRAIN_MS.minute;
  return split(Math.floor(from / m) * m, Math.ceil(to / m) * m, ['day', 'hour', 'minute']);
}

function split(from: number, to: number, grains: Grain[]): RangeSegment[] {
  if (from >= to) return [];
  const [grain, ...finer] = grains;
  if (finer.length === 0) return [{ grain, from, to }];
  const g = GRAIN_MS[grain];
  const start = Math.ceil(from / g) * g;
  const end = Math.floor(to / g) * g;
  if (start >= end) return split(from, to, finer);
  return [...split(from, start, finer), { grain, from: start, to: end }, ...split(end, to, finer)];
}

/** Number of buckets a segment reads. */
export function bucketsOf(s: RangeSegment): number {
  return (s.to - s.from) / GRAIN_MS[s.grain];
}
