/** An entity reference: resolvers return the key, field resolvers (or the owning subgraph) fill the rest. */
export interface IdRef {
  id: string;
}
