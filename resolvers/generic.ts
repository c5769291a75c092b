import type { QueryResolvers } from './generated/production.ts';
import { badInput, iso, parseRange } from './validate-args.ts';
import { checkFirst, decodeCursor, encodeCursor } from './shared/connection.ts';
import { toFreshness } from './shared/window.ts';

const ROLLUP_GRAINS = new Set(['minute', 'hour', 'day']);

/** Entity kinds that are personal data (names): their data is served only as `personalData` (pii:read). */
export const PERSONAL_ENTITIES: ReadonlySet<string> = new Set(['worker']);

/**
 * The domain-neutral part of the API: any metric by name, the metric catalogue, the dead-letter
 * store and current-state entities. `verify` checks every metric through `metricSeries`.
 */
export function createGenericQueries(opts: {
  maxBuckets: number;
}): Pick<QueryResolvers, 'metricSeries' | 'metrics' | 'deadLetters' | 'entities'> {
  return {
    metricSeries: async (_root, args, ctx) => {
      const info = ctx.serving.metrics().find((m) => m.name === args.metric);
      if (!info) throw badInput(`unknown metric ${JSON.stringify(args.metric)}; the \`metrics\` query lists them`);
      if (!ROLLUP_GRAINS.has(args.grain))
        throw badInput('`metricSeries` answers MINUTE, HOUR or DAY (UTC), the grains the layers keep');
      const grain = args.grain as 'minute' | 'hour' | 'day';
      const { from, to } = parseRange(args, { grain, maxBuckets: opts.maxBuckets });
      const where: Record<string, string> = {};
      for (const f of args.where ?? []) {
        // A filter on a personal dimension would let anyone probe for an employee id.
        if (info.personalDimensions.includes(f.name))
          throw badInput(
            `dimension ${JSON.stringify(f.name)} of ${info.name} is personal data and cannot be filtered on`,
          );
        if (!info.dimensions.includes(f.name))
          throw badInput(
            `metric ${info.name} has no dimension ${JSON.stringify(f.name)} (it has ${info.dimensions.join(', ') || 'none'})`,
          );
        where[f.name] = f.value;
      }
      const r = await ctx.serving.series({ metric: info.name, grain, from, to, where, deadline: ctx.deadline });
      return {
        metric: r.metric,
        grain: args.grain,
        from: iso(r.from),
        to: iso(r.to),
        points: r.points.map((p) => ({
          bucket: iso(p.bucket),
          dimensions: info.dimensions
            .filter((name) => !info.personalDimensions.includes(name))
            .map((name) => ({ name, value: p.dims[name] ?? '' })),
          personalDimensions: info.personalDimensions.map((name) => ({ name, value: p.dims[name] ?? '' })),
          value: p.value,
          cells: p.cells,
        })),
        freshness: toFreshness(r.freshness),
      };
    },
    metrics: (_root, _args, ctx) => ctx.serving.metrics(),
    deadLetters: async (_root, args, ctx) => {
      const first = checkFirst(args.first);
      const beforeId = args.after == null ? null : decodeCursor(args.after, (v): v is number => Number.isInteger(v));
      // One more than asked tells whether there is a next page.
      const rows = await ctx.serving.deadLetters({ connector: args.connector ?? null, limit: first + 1, beforeId });
      const edges = rows.slice(0, first).map((r) => {
        const personal = ctx.personalConnectors.has(r.connector);
        return {
          cursor: encodeCursor(r.id),
          node: {
            connector: r.connector,
            source: r.source,
            position: r.position,
            reason: r.reason,
            raw: personal ? null : r.raw,
            personalRaw: personal ? r.raw : null,
            createdAt: iso(r.createdAt),
          },
        };
      });
      return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
    },
    entities: async (_root, args, ctx) => {
      const limit = args.limit ?? 500;
      if (limit < 1 || limit > 10_000) throw badInput('`limit` must be between 1 and 10000');
      const rows = await ctx.serving.entities({ entity: args.entity, limit, after: args.after ?? null });
      return rows.map((r) => {
        const data = r.data === null || r.deleted ? null : JSON.stringify(r.data);
        const personal = PERSONAL_ENTITIES.has(r.entity);
        return { ...r, data: personal ? null : data, personalData: personal ? data : null };
      });
    },
  };
}
