import { randomUUID } from 'node:crypto';
import { speedStoreContract } from './store.contract.ts';
import { createRedisStore } from './redis-store.ts';

// Real Redis (REDIS_URL, default the local one); an unreachable Redis fails the suite.
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
speedStoreContract('redis', async () => createRedisStore({ url, prefix: `test-${randomUUID()}`, slice: 10 }));
