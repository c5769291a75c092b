/** What `millrace up --target` can run (app/modules.ts builds each): `all`, or one role of a split deployment. */
export const TARGETS = ['all', 'ingest', 'loader', 'speed', 'batch', 'subgraph:production', 'subgraph:quality', 'gateway', 'simulator'];
