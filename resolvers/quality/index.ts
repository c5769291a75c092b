import type { Resolvers } from '../generated/quality.ts';
import type { ResolverContext } from '../context.ts';
import { parseWindow } from '../shared/window.ts';

/** Errors and exits of every station over [from, to): one read each per request, whatever the number of stations. */
async function stationTotals(ctx: ResolverContext, metric: string, args: { from: string; to: string }): Promise<Map<string, number>> {
  const w = parseWindow(args, ctx, 'hour');
  const r = await ctx.loaders.read({ metric, from: w.from, to: w.to, grain: null, zone: w.zone });
  const out = new Map<string, number>();
  for (const p of r.points) out.set(p.dims.station, (out.get(p.dims.station) ?? 0) + p.cells[0]);
  return out;
}

/**
 * Resolvers of the quality subgraph (schema/quality.graphql): quality's fields on the Station
 * entity owned by production, computed from the production metrics station_errors and parts_exited.
 */
export function createQualityResolvers(): Resolvers {
  return {
    Station: {
      __resolveReference: async (ref, ctx) => (await ctx.loaders.directory()).station(ref.id!) ?? null,
      errorCount: async (station, args, ctx) => (await stationTotals(ctx, 'station_errors', args)).get(station.id) ?? 0,
      errorRate: async (station, args, ctx) => {
        const [errors, exits] = await Promise.all([stationTotals(ctx, 'station_errors', args), stationTotals(ctx, 'parts_exited', args)]);
        const n = exits.get(station.id) ?? 0;
        return n === 0 ? null : (errors.get(station.id) ?? 0) / n;
      },
    },
  };
}
