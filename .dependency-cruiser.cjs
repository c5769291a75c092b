/**
 * Import rules (`npm run lint:deps`), matching ../shared/ARCHITECTURE.md's layer order: arrows point
 * down the flow, nothing below imports anything above it, and the product reaches the simulator
 * only through its one entry point (simulator/index.ts).
 *
 * Test code (tests, contract suites, testkits, testing/ fixtures) may import across layers — a
 * connector's test uses the simulator's writer as its oracle — but never into a cycle, and product
 * code never imports test code.
 */

/** What each folder's product code may import besides itself (node_modules and node: are always allowed). */
const allowed = {
  lib: [],
  store: ['lib'],
  log: ['lib'],
  metrics: ['lib'],
  ingest: ['lib', 'log'],
  speed: ['lib', 'metrics'],
  batch: ['lib', 'metrics'],
  loader: ['lib', 'log', 'speed', 'metrics', 'ingest'],
  serving: ['lib', 'metrics', 'speed', 'batch'],
  resolvers: ['lib', 'metrics', 'serving'],
  subgraphs: ['lib', 'metrics', 'serving', 'resolvers'],
  gateway: ['lib'],
  // The factory writes to the plant's sources (topics, tables, files, an API) and its ledger;
  // it never imports the pipeline or the metric code (the ledger must stay independent).
  simulator: ['lib', 'log'],
  // verify reads the ledger and the GraphQL API, nothing in between.
  verify: ['lib', 'simulator'],
};

const TEST = '(\\.test\\.ts|\\.contract\\.ts|\\.testkit\\.ts)$|/testing/|^pipeline/|^e2e/|^bench/';
const folders = ['app', 'bench', 'e2e', 'pipeline', 'scripts', ...Object.keys(allowed)];

const layerRules = Object.entries(allowed).map(([from, to]) => ({
  name: `layer-${from}`,
  comment: `${from}/ may import only ${to.length ? to.join(', ') : 'itself'} (ARCHITECTURE.md layer order)`,
  severity: 'error',
  from: { path: `^${from}/`, pathNot: TEST },
  to: { path: `^(${folders.filter((f) => f !== from && !to.includes(f)).join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make start-up order and reading order depend on each other',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'app-simulator-entry',
      comment: 'app/ starts the factory through simulator/index.ts only: the product never imports the simulator',
      severity: 'error',
      from: { path: '^app/', pathNot: TEST },
      to: { path: '^simulator/', pathNot: '^simulator/index\\.ts$' },
    },
    {
      name: 'no-upward-to-app',
      comment: 'nothing imports app/ but app/ (and the benches and end-to-end scenarios that run it)',
      severity: 'error',
      from: { path: '^(?!app/|bench/|e2e/|pipeline/)' },
      to: { path: '^app/' },
    },
    {
      name: 'product-not-test-code',
      comment: 'product code never imports tests, contract suites or fixtures',
      severity: 'error',
      from: { pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|resolvers/generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
