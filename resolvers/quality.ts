import type { Serving } from '../serving/types.ts';
import type { Resolvers } from './generated/quality.ts';
import { bucketsOf, coverRange } from './cover-range.ts';
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

  async function total(serving: Serving, metric: string, station: string, args: { from: string; to: string }): Promise<number> {
    const { from, to } = parseRange(args);
    const segments = coverRange(from, to);
    const buckets = segments.reduce((n, s) => n + bucketsOf(s), 0);
    if (buckets > maxBuckets) throw badInput(`the range needs ${buckets} buckets; the limit is ${maxBuckets}`);
    const results = await Promise.all(segments.map((s) => serving.series({ metric, grain: s.grain, from: s.from, to: s.to, where: { station } })));
    return results.reduce((sum, r) => sum + r.points.reduce((a, p) => a + p.value, 0), 0);
  }

  return {
    Station: {
      // Quality has no station data of its own: any id the floor knows is a station.
      __resolveReference: (ref, ctx) => (ctx.floor.stations.some((s) => s.id === ref.id) ? { __typename: 'Station', id: ref.id } : null),
      errorCount: (station, args, ctx) => total(ctx.serving, 'station_errors', station.id, args),
      errorRate: async (station, args, ctx) => {
        const [errors, exits] = await Promise.all([
          total(ctx.serving, 'station_errors', station.id, args),
          total(ctx.serving, 'parts_exited', station.id, args),
        ]);
        return exits === 0 ? null : errors / exits;
      },
    },
  };
}
