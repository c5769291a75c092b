import { defineConfig } from 'vitest/config';

/**
 * The test runner (the design card's vitest). Tests run against real services, so: one file at a
 * time (as `--test-concurrency=1` did), each in a process of its own, and no per-test time limit
 * of vitest's (a test bounds its own waits; speed belongs in bench/).
 */
export default defineConfig({
  // graphql 16 ships CJS (`main`) and ESM (`module`) side by side. Node loads the CJS one for every
  // dependency (the gateway runtime, Apollo); vite would resolve our own `import 'graphql'` to the
  // ESM one, and two graphql instances refuse each other's schemas ("from another module or realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
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
