import { SUBGRAPH_NAMES } from '../subgraphs/registry.ts';

/** What `millrace up --target` can run (app/modules.ts builds each): `all`, or one role of a split deployment. */
export const TARGETS = ['all', 'ingest', 'loader', 'speed', 'batch', ...SUBGRAPH_NAMES.map((n) => `subgraph:${n}`), 'gateway', 'simulator'];
