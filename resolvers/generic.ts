import type { QueryResolvers } from './generated/production.ts';
import { badInput, iso, parseRange } from './validate-args.ts';

/**
 * The domain-neutral part of the API: any metric by name, the metric catalogue, the dead-letter
 * store and current-state entities. `verify` checks every metric through `metricSeries`.
 */
export function createGenericQueries(opts: { maxBuckets: number }): Pick<QueryResolvers, 'metricSeries' | 'metrics' | 'deadLetters' | 'entities'> {
  return {
    metricSeries: async (_root, args, ctx) => {
      const info = ctx.serving.metrics().find((m) => m.name === args.metric);
      if (!info) throw badInput(`unknown metric ${JSON.stringify(args.metric)}; the \`metrics\` query lists them`);
      const { from, to } = parseRange(args, { grain: args.grain, maxBuckets: opts.maxBuckets });
      const where: Record<string, string> = {};
      for (const f of args.where ?? []) {
        if (!info.dimensions.includes(f.name)) throw badInput(`metric ${info.name} has no dimension ${JSON.stringify(f.name)} (it has ${info.dimensions.join(', ') || 'none'})`);
        where[f.name] = f.value;
      }
      const r = await ctx.serving.series({ metric: info.name, grain: args.grain, from, to, where, deadline: ctx.deadline });
      return {
        metric: r.metric,
        grain: args.grain,
        from: iso(r.from),
        to: iso(r.to),
        points: r.points.map((p) => ({
          bucket: iso(p.bucket),
          dimensions: info.dimensions.map((name) => ({ name, value: p.dims[name] ?? '' })),
          value: p.value,
          cells: p.cells,
        })),
        freshness: {
          asOf: iso(r.freshness.asOf),
          batchOffsets: r.freshness.batchOffsets,
          batchWatermark: r.freshness.batchWatermarkTime === null ? null : iso(r.freshness.batchWatermarkTime),
          batchRefreshedAt: r.freshness.batchRefreshedAt === null ? null : iso(r.freshness.batchRefreshedAt),
          speedOffsets: r.freshness.speedOffsets,
          speedLagEvents: r.freshness.speedLagEvents,
          speedAppliedAt: r.freshness.speedAppliedAt === null ? null : iso(r.freshness.speedAppliedAt),
          batchShare: r.freshness.batchShare,
          speedShare: r.freshness.speedShare,
        },
      };
    },
    metrics: (_root, _args, ctx) => ctx.serving.metrics(),
    deadLetters: async (_root, args, ctx) => {
      const limit = args.limit ?? 50;
      if (limit < 1 || limit > 1000) throw badInput('`limit` must be between 1 and 1000');
      const rows = await ctx.serving.deadLetters({ connector: args.connector ?? null, limit });
      return rows.map((r) => ({ ...r, createdAt: iso(r.createdAt) }));
    },
    entities: async (_root, args, ctx) => {
      const limit = args.limit ?? 500;
      if (limit < 1 || limit > 10_000) throw badInput('`limit` must be between 1 and 10000');
      const rows = await ctx.serving.entities({ entity: args.entity, limit, after: args.after ?? null });
      return rows.map((r) => ({ ...r, data: r.data === null || r.deleted ? null : JSON.stringify(r.data) }));
    },
  };
}
