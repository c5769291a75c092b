import type { Resolvers } from '../generated/workforce.ts';

/** Resolvers of the workforce subgraph (schema/workforce.graphql). */
export function createWorkforceResolvers(): Resolvers {
  return {
    Station: { __resolveReference: async (ref, ctx) => (await ctx.loaders.directory()).station(ref.id!) ?? null },
  };
}
