import { createProductionResolvers } from '../resolvers/production/index.ts';
import { createQualityResolvers } from '../resolvers/quality/index.ts';
import { createEnergyResolvers } from '../resolvers/energy/index.ts';
import { createWorkforceResolvers } from '../resolvers/workforce/index.ts';

/**
 * Every subgraph: its SDL is schema/common.graphql + schema/<name>.graphql, its resolvers
 * resolvers/<name>/. A fifth domain is one folder of resolvers, one SDL file and one line here.
 */
export const SUBGRAPHS = {
  production: createProductionResolvers,
  quality: createQualityResolvers,
  energy: createEnergyResolvers,
  workforce: createWorkforceResolvers,
} satisfies Record<string, () => unknown>;

export type SubgraphName = keyof typeof SUBGRAPHS;

export const SUBGRAPH_NAMES = Object.keys(SUBGRAPHS) as SubgraphName[];
