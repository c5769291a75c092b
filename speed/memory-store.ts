import { EventEmitter, once } from 'node:events';
import { combineCell } from '../metrics/define-metric.ts';
import { cellFieldMatcher } from '../metrics/cell-key.ts';
import {
  SLICE_BUCKET_MS,
  hourField,
  hoursOf,
  type ApplyRequest,
  type ApplyResult,
  type CellUpdate,
  type SliceRead,
  type SpeedGrain,
  type SpeedStore,
  type StoredDelta,
} from './store.ts';

export interface MemoryStoreOptions {
  /** Deltas kept for resuming subscribers. Default 100 000. */
  maxDeltas?: number;
}

/**
 * The speed store of embedded mode: process memory, same semantics as Redis (every method runs
 * synchronously between awaits, which makes each one atomic in a single Node process).
 */
export function createMemoryStore(opts: MemoryStoreOptions = {}): SpeedStore {
  const maxDeltas = opts.maxDeltas ?? 100_000;
  const offsets = new Map<number, number>();
  const floors = new Map<number, number>();
  // Per grain: metric → partition → hour → slice → field → value: a range read visits only its hours.
  type Cells = Map<string, Map<number, Map<number, Map<number, Map<string, number>>>>>;
  const grains: Record<SpeedGrain, Cells> = { minute: new Map(), hour: new Map() };
  const deltas: Array<{ seq: number; data: string }> = [];
  // Cursors carry the store's start time: a cursor from an earlier process is recognised as expired.
  const epoch = Date.now();
  let seq = 0;
  let trimmedThrough = 0;
  const cursorOf = (n: number) => `${epoch}-${n}`;
  const seqOf = (cursor: string): number | null => {
    const [e, n] = cursor.split('-');
    return Number(e) === epoch && n !== undefined ? Number(n) : null;
  };
  let appliedAt: number | null = null;
  const wake = new EventEmitter();
  wake.setMaxListeners(0);

  const sliceMap = (slices: Cells, metric: string, p: number, s: number, hour: number): Map<string, number> => {
    let byP = slices.get(metric);
    if (!byP) slices.set(metric, (byP = new Map()));
    let byH = byP.get(p);
    if (!byH) byP.set(p, (byH = new Map()));
    let byS = byH.get(hour);
    if (!byS) byH.set(hour, (byS = new Map()));
    let fields = byS.get(s);
    if (!fields) byS.set(s, (fields = new Map()));
    return fields;
  };

  const deltasAfter = (after: number, count: number): StoredDelta[] =>
    deltas
      .filter((d) => d.seq > after)
      .slice(0, count)
      .map((d) => ({ cursor: cursorOf(d.seq), data: d.data }));

  return {
    async apply(req: ApplyRequest): Promise<ApplyResult> {
      const cur = offsets.get(req.partition);
      if (cur === undefined ? !req.initIfMissing : cur !== req.fromOffset) {
        return { applied: false, offset: cur ?? null };
      }
      if (cur === undefined) {
        const p = req.partition;
        floors.set(p, Math.max(floors.get(p) ?? 0, req.initFloor ?? 0));
      }
      const combine = (fields: Map<string, number>, field: string, u: CellUpdate) => {
        const old = fields.get(field);
        fields.set(field, old === undefined ? u.value : combineCell(u.op, old, u.value));
      };
      for (const u of req.updates) {
        const hour = Math.floor(u.bucket / SLICE_BUCKET_MS);
        combine(sliceMap(grains.minute, u.metric, req.partition, u.slice, hour), u.field, u);
        combine(sliceMap(grains.hour, u.metric, req.partition, u.slice, hour), hourField(u.field, u.bucket), u);
      }
      offsets.set(req.partition, req.toOffset);
      appliedAt = req.appliedAt;
      let cursor: string | null = null;
      if (req.delta !== undefined) {
        deltas.push({ seq: ++seq, data: req.delta });
        cursor = cursorOf(seq);
        while (deltas.length > maxDeltas) trimmedThrough = deltas.shift()!.seq;
        wake.emit('delta');
      }
      return { applied: true, offset: req.toOffset, cursor };
    },
    async offsets(partitions) {
      return Array.from({ length: partitions }, (_, p) => offsets.get(p) ?? null);
    },
    async read(metric, fromSlice, range, dims, grain = 'minute'): Promise<SliceRead> {
      const byP = grains[grain].get(metric);
      const [h0, h1] = hoursOf(range);
      const matches = dims ? cellFieldMatcher(dims) : null;
      const pick = (fields: Map<string, number>) =>
        Object.fromEntries(matches ? [...fields].filter(([f]) => matches(f)) : fields);
      return {
        offsets: fromSlice.map((_, p) => offsets.get(p) ?? null),
        floors: fromSlice.map((_, p) => floors.get(p) ?? 0),
        appliedAt,
        slices: fromSlice.map((from, p) => {
          const out: SliceRead['slices'][number] = [];
          for (const [hour, byS] of byP?.get(p) ?? []) {
            if (hour < h0 || hour > h1) continue;
            for (const [slice, fields] of byS) {
              if (slice < from) continue;
              const kept = pick(fields);
              // As the Redis store: a slice hour with no cell of the values asked for is not returned.
              for (const _ in kept) {
                out.push({ slice, last: slice, fields: kept });
                break;
              }
            }
          }
          return out;
        }),
      };
    },
    async prune(partition, slice, metrics) {
      for (const slices of Object.values(grains)) {
        for (const m of metrics) {
          const byH = slices.get(m)?.get(partition);
          for (const [hour, byS] of byH ?? []) {
            for (const s of byS.keys()) if (s < slice) byS.delete(s);
            if (byS.size === 0) byH!.delete(hour);
          }
        }
      }
      floors.set(partition, Math.max(floors.get(partition) ?? 0, slice));
    },
    async readDeltas(after, count, blockMs, signal) {
      const from = after === '' ? 0 : (seqOf(after) ?? 0);
      let found = deltasAfter(from, count);
      if (found.length > 0 || blockMs <= 0) return found;
      const timer = AbortSignal.timeout(blockMs);
      const stop = signal ? AbortSignal.any([signal, timer]) : timer;
      await once(wake, 'delta', { signal: stop }).catch(() => undefined);
      found = deltasAfter(from, count);
      return found;
    },
    async lastCursor() {
      return seq === 0 ? '' : cursorOf(seq);
    },
    async cursorExpired(after) {
      if (after === '') return false;
      const n = seqOf(after);
      return n === null || n < trimmedThrough;
    },
    async close() {
      wake.removeAllListeners();
    },
  };
}
