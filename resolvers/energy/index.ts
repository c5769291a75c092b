import type { Resolvers } from '../generated/energy.ts';

/** Resolvers of the energy subgraph (schema/energy.graphql). */
export function createEnergyResolvers(): Resolvers {
  return {
    Station: { __resolveReference: async (ref, ctx) => (await ctx.loaders.directory()).station(ref.id!) ?? null },
  };
}
