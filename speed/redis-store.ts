import { Redis } from 'ioredis';
import {
  SLICE_BUCKET_MS,
  compareCursors,
  hourField,
  hoursOf,
  type ApplyRequest,
  type ApplyResult,
  type SliceRead,
  type SpeedStore,
} from './store.ts';
import { APPLY_LUA, PRUNE_LUA, READ_LUA } from './redis-scripts.ts';
import { cellFieldGlob, cellFieldLuaPattern } from '../metrics/cell-key.ts';
import { combineCell, type CellOp } from '../metrics/define-metric.ts';

/** How APPLY_LUA names a cell's operation. */
const OP_CODE: Record<CellOp, string> = { sum: 's', min: 'm', max: 'M' };

export interface RedisStoreOptions {
  /** redis:// URL. */
  url: string;
  /** Key prefix, so several deployments (or tests) can share one Redis. Default 'millrace'. */
  prefix?: string;
  /** Slice size in log offsets (must match the applier's). */
  slice: number;
  /** Deltas kept in the stream for resuming subscribers (approximate, MAXLEN ~). Default 100 000. */
  maxDeltas?: number;
  /** Slice hashes deleted per prune call (each call is atomic; smaller calls block Redis less). Default 2000. */
  pruneBatch?: number;
}

type Cmd = (...args: Array<string | number | Array<string | number>>) => Promise<unknown>;

/**
 * The production speed store. Every apply is one Lua call (atomic: cells, speed offset and the
 * delta entry together); every read is one Lua call (the slices agree with one offset vector).
 * Keys of one deployment share the `{prefix}` hash tag; in Redis Cluster that pins them to one
 * slot — splitting by partition is the scale-out step (ARCHITECTURE.md).
 */
export function createRedisStore(opts: RedisStoreOptions): SpeedStore {
  const prefix = `{${opts.prefix ?? 'millrace'}}`;
  const maxDeltas = opts.maxDeltas ?? 100_000;
  const redis = new Redis(opts.url, { maxRetriesPerRequest: 3, lazyConnect: false });
  redis.defineCommand('millraceApply', { lua: APPLY_LUA, numberOfKeys: 3 });
  redis.defineCommand('millraceRead', { lua: READ_LUA, numberOfKeys: 3 });
  redis.defineCommand('millracePrune', { lua: PRUNE_LUA, numberOfKeys: 1 });
  const apply = (redis as unknown as { millraceApply: Cmd }).millraceApply.bind(redis);
  const read = (redis as unknown as { millraceRead: Cmd }).millraceRead.bind(redis);
  const pruneSome = (redis as unknown as { millracePrune: Cmd }).millracePrune.bind(redis);
  const pruneBatch = opts.pruneBatch ?? 2000;
  const k = {
    offsets: `${prefix}:speed_offset`,
    floors: `${prefix}:floor`,
    meta: `${prefix}:meta`,
    deltas: `${prefix}:deltas`,
    slice: (metric: string, p: number, s: number, hour: number) => `${prefix}:slice:${metric}:${p}:${s}:${hour}`,
  };
  // Blocking XREADs each get a connection of their own, so they never stall the shared one.
  const readers = new Set<Redis>();
  let spare: Redis | null = null;
  let closed = false;
  // Blocking readers are named, so `CLIENT LIST` shows how many a deployment holds.
  const readerName = `${(opts.prefix ?? 'millrace').replace(/[^\w:.-]/g, '_')}:deltas`;

  return {
    async apply(req: ApplyRequest): Promise<ApplyResult> {
      // The slice hours touched (1-based in ARGV), and the batch's cells summed up to their hour.
      const touched = new Map<string, { index: number; at: [string, number, number] }>();
      const cells: Array<string | number> = [];
      const hourly = new Map<string, { index: number; field: string; op: CellOp; value: number }>();
      for (const u of req.updates) {
        const hour = Math.floor(u.bucket / SLICE_BUCKET_MS);
        const key = k.slice(u.metric, req.partition, u.slice, hour);
        let t = touched.get(key);
        if (!t) touched.set(key, (t = { index: touched.size + 1, at: [u.metric, u.slice, hour] }));
        cells.push(key, u.field, OP_CODE[u.op], String(u.value));
        const field = hourField(u.field, u.bucket);
        const hk = `${t.index}:${field}`;
        const h = hourly.get(hk);
        if (h) h.value = combineCell(u.op, h.value, u.value);
        else hourly.set(hk, { index: t.index, field, op: u.op, value: u.value });
      }
      const args: Array<string | number> = [
        req.partition,
        req.fromOffset,
        req.toOffset,
        req.initIfMissing ? 1 : 0,
        req.appliedAt,
        req.delta ?? '',
        maxDeltas,
        prefix,
        req.initFloor ?? 0,
        Math.floor(req.fromOffset / opts.slice),
        req.updates.length,
        touched.size,
        hourly.size,
        ...cells,
      ];
      for (const t of touched.values()) args.push(...t.at);
      for (const h of hourly.values()) args.push(h.index, h.field, OP_CODE[h.op], String(h.value));
      // One array argument (ioredis flattens it): a big batch has hundreds of thousands of arguments,
      // more than a spread into a call's arguments can take (RangeError: call stack size).
      const res = (await apply([k.offsets, k.meta, k.deltas, ...args])) as [number, string | null, string?];
      if (res[0] === 1) return { applied: true, offset: Number(res[1]), cursor: res[2] || null };
      return { applied: false, offset: res[1] === null || res[1] === '' ? null : Number(res[1]) };
    },
    async offsets(partitions) {
      const vals =
        partitions === 0
          ? []
          : await redis.hmget(k.offsets, ...Array.from({ length: partitions }, (_, p) => String(p)));
      return vals.map((v) => (v === null ? null : Number(v)));
    },
    async read(metric, fromSlice, range, dims, grain = 'minute'): Promise<SliceRead> {
      const [h0, h1] = hoursOf(range).map((h) => (h === -Infinity ? '-inf' : h === Infinity ? '+inf' : String(h)));
      const pattern = (dims && cellFieldLuaPattern(dims)) ?? '';
      const glob = (dims && cellFieldGlob(dims)) ?? '';
      const n = fromSlice.length;
      const res = (await read(
        k.offsets,
        k.floors,
        k.meta,
        prefix,
        metric,
        n,
        h0,
        h1,
        pattern,
        grain,
        opts.slice,
        glob,
        ...fromSlice,
      )) as [Array<string>, Array<string>, string, Array<Array<[string, string, string[]]>>];
      const [offs, floors, appliedAt, perP] = res;
      return {
        offsets: offs.map((v) => (v === '' ? null : Number(v))),
        floors: floors.map((v) => (v === '' ? 0 : Number(v))),
        appliedAt: appliedAt === '' ? null : Number(appliedAt),
        slices: perP.map((list) =>
          list.map(([s, last, flat]) => {
            const fields: Record<string, number> = {};
            for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = Number(flat[i + 1]);
            return { slice: Number(s), last: Number(last), fields };
          }),
        ),
      };
    },
    async prune(partition, slice) {
      // The slices index of the partition knows every hash below `slice`, whatever its metric and hour.
      for (let i = 0; i < 10_000; i++) {
        const n = Number(await pruneSome(k.floors, prefix, String(partition), slice, pruneBatch));
        if (n < pruneBatch) return;
      }
    },
    async readDeltas(after, count, blockMs, signal) {
      const from = after === '' ? '0-0' : after;
      if (blockMs <= 0) {
        const res = await redis.xrange(k.deltas, `(${from}`, '+', 'COUNT', count);
        return res.map(([id, f]) => ({ cursor: id, data: f[1] }));
      }
      // One spare connection is kept for the next blocking read (the shared delta reader issues one
      // a second when idle, more when busy: a new TCP connection each time was waste). An aborted
      // read's connection is dropped, which is how a blocked XREAD is cut short.
      const conn = spare ?? redis.duplicate({ connectionName: readerName });
      spare = null;
      readers.add(conn);
      const abort = () => conn.disconnect();
      signal?.addEventListener('abort', abort, { once: true });
      let reusable = false;
      try {
        const res = await conn.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', k.deltas, from);
        reusable = !signal?.aborted;
        return (res?.[0]?.[1] ?? []).map(([id, f]) => ({ cursor: id, data: f[1] }));
      } catch (err) {
        if (signal?.aborted) return [];
        throw err;
      } finally {
        signal?.removeEventListener('abort', abort);
        readers.delete(conn);
        if (reusable && spare === null && !closed) spare = conn;
        else conn.disconnect();
      }
    },
    async lastCursor() {
      const last = await redis.xrevrange(k.deltas, '+', '-', 'COUNT', 1);
      return last[0]?.[0] ?? '';
    },
    async cursorExpired(after) {
      if (after === '') return false;
      // Older than the oldest entry kept: what followed it may have been trimmed. XRANGE works on
      // every Redis (XINFO's max-deleted-entry-id needs 7.0); at worst a cursor whose successors
      // all survived is called expired, and the client re-queries — never a silent gap.
      const first = await redis.xrange(k.deltas, '-', '+', 'COUNT', 1);
      if (first.length === 0) return (await redis.exists(k.deltas)) === 0 && after !== '';
      return compareCursors(after, first[0][0]) < 0;
    },
    async close() {
      closed = true;
      for (const r of readers) r.disconnect();
      spare?.disconnect();
      spare = null;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Delete every key of the deployment `prefix` (all under its `{prefix}` hash tag), in chunks:
 * what a FLUSHALL does to one deployment. Tests and benches clean up with it.
 */
export async function deletePrefixKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    const keys = await redis.keys(`{${prefix}}:*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  } finally {
    await redis.quit();
  }
}
