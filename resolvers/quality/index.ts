import type { Resolvers } from '../generated/quality.ts';
import { floorRefs } from '../shared/refs.ts';
import { checkIds } from '../shared/window.ts';
import { liveUpdates, resolveUpdate } from '../shared/updates.ts';
import { iso } from '../validate-args.ts';
import { mttrReport, orderFields, ordersConnection, ordersOf, repairOrdersOf } from './orders.ts';
import { qualityReport, readQuality, stationQuality, toQualityFigures } from './report.ts';
import { toolFields, toolsConnection, toolsOf } from './tools.ts';

const LIVE_METRICS = new Set(['parts_exited', 'station_errors']);

/**
 * Resolvers of the quality subgraph (schema/quality.graphql): report 4 (inspections, first-pass
 * yield, rework), MTTR from repair orders, orders and tools from current state, quality's fields
 * on the entities production owns, and live quality per station. Every figure comes from the
 * request's loaders, so a query over any number of stations costs a constant number of reads.
 */
export function createQualityResolvers(): Resolvers {
  return {
    Grain: { MINUTE: 'minute', HOUR: 'hour', SHIFT: 'shift', DAY: 'day', WEEK: 'week', MONTH: 'month' },
    Query: {
      quality: (_root, args, ctx) => qualityReport(ctx, args),
      mttr: (_root, args, ctx) => mttrReport(ctx, args),
      orders: (_root, args, ctx) => ordersConnection(ctx, args),
      tools: (_root, args, ctx) => toolsConnection(ctx, args),
      tool: async (_root, { id }, ctx) => ((await toolsOf(ctx)).byId.has(id) ? { id } : null),
    },
    Subscription: {
      qualityUpdates: {
        subscribe: (_root, args, ctx) => {
          const wanted = args.stations ? new Set(args.stations) : null;
          return liveUpdates(ctx, {
            after: args.after ?? null,
            metrics: LIVE_METRICS,
            snapshot: async () => {
              const dir = await ctx.loaders.directory();
              if (wanted)
                checkIds(
                  'station',
                  [...wanted],
                  dir.stations.map((s) => s.id),
                );
              const now = ctx.loaders.now();
              const read = await readQuality(
                ctx,
                dir,
                { from: now - 1, to: now, grain: 'day', zone: ctx.calendar.zone },
                false,
              );
              const day = iso(read.buckets[0].start);
              const items = [...read.counts]
                .filter(([s]) => !wanted || wanted.has(s))
                .map(([station, [c]]) => ({ station, bucket: day, inspected: c.inspected, failed: c.failed }));
              return { items, freshness: read.freshness };
            },
            itemsOf: (d) => {
              const byKey = new Map<string, { station: string; bucket: string; inspected: number; failed: number }>();
              for (const i of d.items) {
                const station = i.dims.station ?? '';
                if (wanted && !wanted.has(station)) continue;
                const key = `${station}\u0000${i.bucket}`;
                let item = byKey.get(key);
                if (!item) byKey.set(key, (item = { station, bucket: iso(i.bucket), inspected: 0, failed: 0 }));
                if (i.metric === 'parts_exited') item.inspected += i.cells[0] ?? 0;
                else item.failed += i.cells[0] ?? 0;
              }
              return [...byKey.values()];
            },
          });
        },
        resolve: resolveUpdate,
      },
    },
    Station: {
      __resolveReference: floorRefs.station,
      errorCount: async (s, args, ctx) => (await stationQuality(ctx, [s.id], args)).failed,
      errorRate: async (s, args, ctx) => {
        const c = await stationQuality(ctx, [s.id], args);
        return c.inspected === 0 ? null : c.failed / c.inspected;
      },
      quality: async (s, args, ctx) => toQualityFigures(await stationQuality(ctx, [s.id], args)),
    },
    Department: {
      __resolveReference: floorRefs.department,
      quality: async (d, args, ctx) => {
        const ids = (await ctx.loaders.directory()).stations.filter((s) => s.department === d.id).map((s) => s.id);
        return toQualityFigures(await stationQuality(ctx, ids, args));
      },
    },
    Machine: {
      __resolveReference: floorRefs.machine,
      repairOrders: (m, args, ctx) => repairOrdersOf(ctx, m.id, args),
    },
    Order: {
      __resolveReference: async (ref, ctx) => ((await ordersOf(ctx)).byId.has(ref.id!) ? { id: ref.id! } : null),
      ...orderFields,
    },
    Tool: {
      __resolveReference: async (ref, ctx) => ((await toolsOf(ctx)).byId.has(ref.id!) ? { id: ref.id! } : null),
      ...toolFields,
    },
  };
}
