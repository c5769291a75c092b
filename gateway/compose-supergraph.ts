import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';
import { MillraceError } from '../lib/errors.ts';

/** A subgraph as the gateway sees it. */
export interface SubgraphEndpoint {
  /** Subgraph name; also the key for its transport settings. */
  name: string;
  /** HTTP endpoint for queries and mutations. */
  url: string;
  /** graphql-ws endpoint for subscriptions; without it the subgraph's subscriptions go over HTTP. */
  wsUrl?: string;
  /** The subgraph's SDL (Federation 2). */
  sdl: string;
}

/**
 * The supergraph, composed in process from the subgraphs' SDL (no registry, no rover step).
 * A composition error stops the start with every error listed: a gateway serving a partial
 * graph would fail later, query by query, with far less useful messages.
 */
export function composeSupergraph(subgraphs: SubgraphEndpoint[]): string {
  if (subgraphs.length === 0) throw new MillraceError('COMPOSITION_FAILED', 'the gateway needs at least one subgraph');
  const services = subgraphs.map((s) => {
    try {
      return { name: s.name, url: s.url, typeDefs: parse(s.sdl) };
    } catch (err) {
      throw new MillraceError(
        'COMPOSITION_FAILED',
        `subgraph ${s.name}: its SDL does not parse: ${(err as Error).message}`,
        { cause: err },
      );
    }
  });
  const result = composeServices(services);
  if (result.errors) {
    const list = result.errors
      .map((e) => `  - ${e.message}${e.extensions?.code ? ` [${String(e.extensions.code)}]` : ''}`)
      .join('\n');
    throw new MillraceError(
      'COMPOSITION_FAILED',
      `supergraph composition failed (${subgraphs.map((s) => s.name).join(', ')}):\n${list}`,
    );
  }
  return result.supergraphSdl;
}
