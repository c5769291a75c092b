import { Worker, workerData, type WorkerOptions } from 'node:worker_threads';

/**
 * The app runs TypeScript through tsx (`node --import tsx`), and threads inherit that flag, but on
 * Node 20 tsx registers its loader in the main thread only: a `new Worker(x.ts)` fails with
 * ERR_UNKNOWN_FILE_EXTENSION (tsx#354, node#47747). So a thread starts on a small JavaScript entry
 * that loads its module with tsx's `tsImport` — scoped to that import, so it neither needs nor
 * disturbs a global registration (newer Nodes do pass tsx on to threads).
 */
const BOOT = new URL('./ts-worker-boot.mjs', import.meta.url);

/**
 * Start a thread running the TypeScript module `entry`; it reads `data` with `tsWorkerData()`.
 * `data` must survive a structured clone (plain data: no functions, no class instances).
 */
export function createTsWorker(entry: URL, data: unknown, opts: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  return new Worker(BOOT, { ...opts, workerData: { entry: entry.href, data } });
}

/** Inside a module started by `createTsWorker`: the data it was started with. */
export function tsWorkerData<T>(): T {
  return (workerData as { data: T }).data;
}
