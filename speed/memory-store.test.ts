import { speedStoreContract } from './store.contract.ts';
import { createMemoryStore } from './memory-store.ts';

speedStoreContract('memory', async () => createMemoryStore());
