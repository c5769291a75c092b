// The JavaScript entry of every thread `createTsWorker` (ts-worker.ts) starts: it loads the
// thread's TypeScript module through tsx, since Node 20 threads do not get the main thread's hooks.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
