import { pipelineContract } from './pipeline.contract.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import { createMemoryStore } from '../speed/memory-store.ts';

// Embedded stack: Postgres table topic + in-process speed store (losing it = a process restart).
pipelineContract('postgres topic + memory store', {
  topic: (pool, name) =>
    createPostgresTopic({
      pool,
      name: name.replace(/\W/g, '_'),
      partitions: 3,
      schema: name.split('.')[0],
      pollIntervalMs: 50,
    }),
  store: () => createMemoryStore(),
  flush: async (s) => {
    await s.close();
    return createMemoryStore();
  },
});
