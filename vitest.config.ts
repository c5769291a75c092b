import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

/**
 * The test runner (the design card's vitest). Tests run against real services, so: one file at a
 * time (as `--test-concurrency=1` did), each in a process of its own, and no per-test time limit
 * of vitest's (a test bounds its own waits; speed belongs in bench/).
 */
export default defineConfig({
  // One graphql-js: our TypeScript would import its ESM build while the gateway runtime and the
  // subgraph libraries require() the CommonJS one, and graphql-js refuses objects of the other
  // copy ("Cannot use GraphQLObjectType from another module or realm"). The CommonJS one for all.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] },
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
