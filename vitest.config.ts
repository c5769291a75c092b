import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * The test runner (the design card's vitest). Tests run against real services, so: one file at a
 * time (as `--test-concurrency=1` did), each in a process of its own, and no per-test time limit
 * of vitest's (a test bounds its own waits; speed belongs in bench/).
 */
export default defineConfig({
  // One graphql: vite would resolve our `import 'graphql'` to its ESM build (index.mjs) while the
  // CommonJS packages of the gateway require index.js — two realms, and every federated query
  // fails with "Cannot use GraphQLObjectType from another module or realm". Node itself resolves
  // the package to index.js, so tests now load what production loads.
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 0,
    hookTimeout: 0,
    teardownTimeout: 60_000,
  },
});
