import type pg from 'pg';
import type { CompiledMetric } from '../metrics/define-metric.ts';
import { compileReducer } from '../metrics/compile-reducer.ts';
import { ident } from '../lib/ident.ts';
import { GRAIN_MS } from '../metrics/grain.ts';
import { cellField, parseStateKey } from '../metrics/cell-key.ts';
import type { CellUpdate, SpeedStore } from './store.ts';
import { createLoop } from '../lib/loop.ts';
import type { PartitionLeases } from './partition-leases.ts';

export interface ApplierOptions {
  pool: pg.Pool;
  schema: string;
  store: SpeedStore;
  metrics: readonly CompiledMetric[];
  partitions: number;
  /** Slice size in log offsets; the batch layer folds whole slices. */
  slice: number;
  /** Max raw rows per apply. Default 2000. */
  batchSize?: number;
  /** Slices kept below the batch watermark before pruning (queries in flight across a refresh). Default 2. */
  retainSlices?: number;
  /** Fallback poll interval when no wake-up arrives, ms. Default 1000. */
  pollMs?: number;
  /**
   * Share the partitions with the other appliers of the deployment (speed/partition-leases.ts):
   * each pass works only the partitions this applier holds. Default: every partition (one applier,
   * or tests; others working the same partitions are fenced by the store's compare-and-set).
   */
  leases?: PartitionLeases;
  onError?: (err: unknown) => void;
}

/** Compact delta as stored: [metric, bucket, dims[], cells[]] per item. */
export interface DeltaPayload {
  p: number;
  from: number;
  to: number;
  at: number;
  maxEventTime: number | null;
  items: Array<[string, number, string[], number[]]>;
}

/**
 * The speed applier (ARCHITECTURE.md, step 4): reads accepted events from `raw` in log order,
 * from the store's own speed offset, and applies each batch as one atomic compare-and-set call.
 * Because it always starts where the store says it is, a crash, a lost Redis (it restarts from
 * the batch watermark) or a concurrent applier can neither skip nor double-apply a position.
 */
export function createSpeedApplier(opts: ApplierOptions) {
  const s = ident(opts.schema);
  const batchSize = opts.batchSize ?? 2000;
  const retain = opts.retainSlices ?? 2;
  const reducers = opts.metrics.map((m) => ({ m, reduce: compileReducer(m, GRAIN_MS.minute) }));
  // partitions: those this applier held at its last pass (null: every partition, no leases).
  const stats = { batches: 0, events: 0, refused: 0, partitions: null as number[] | null };
  // A stop also cuts a long catch-up short (cycle() called by hand is not stopped by it).
  let stopping = false;
  // Apply while there is a backlog; then wait for a kick (the loader's commit) or the poll interval.
  const loop = createLoop({
    tick: async () => (await cycle()) > 0,
    intervalMs: opts.pollMs ?? 1000,
    onError: (err) => opts.onError?.(err),
  });

  async function positions() {
    const r = await opts.pool.query(
      `SELECT l.partition, l.next_offset AS loaded, b.next_offset AS batch
         FROM ${s}.loader_offsets l JOIN ${s}.batch_watermarks b USING (partition) ORDER BY l.partition`,
    );
    return r.rows.map((row) => ({ p: Number(row.partition), loaded: Number(row.loaded), batch: Number(row.batch) }));
  }

  /** Apply everything loaded for partition p; returns the number of events applied. */
  async function catchUp(p: number, loaded: number, batchW: number): Promise<number> {
    let applied = 0;
    let [cur] = (await opts.store.offsets(p + 1)).slice(p);
    let init = cur === null;
    let from = cur ?? batchW;
    while (from < loaded && !stopping) {
      const r = await opts.pool.query(
        `SELECT type, event_time, payload, log_offset FROM ${s}.raw_events
          WHERE partition = $1 AND log_offset >= $2 AND log_offset < $3 ORDER BY log_offset LIMIT $4`,
        [p, from, loaded, batchSize],
      );
      // Several rows can share a log position (an event and the one derived from it): a batch cut
      // by LIMIT ends before the last position it saw, which the next batch then reads whole.
      let rows = r.rows;
      let to = loaded;
      if (rows.length === batchSize) {
        to = Number(rows[rows.length - 1].log_offset);
        rows = rows.filter((row) => Number(row.log_offset) < to);
        if (rows.length === 0) {
          to = from + 1;
          rows = (
            await opts.pool.query(
              `SELECT type, event_time, payload, log_offset FROM ${s}.raw_events WHERE partition = $1 AND log_offset = $2`,
              [p, from],
            )
          ).rows;
        }
      }
      const { updates, delta } = contributions(p, from, to, rows);
      const res = await opts.store.apply({
        partition: p,
        fromOffset: from,
        toOffset: to,
        initIfMissing: init,
        initFloor: Math.floor(from / opts.slice),
        updates,
        delta: JSON.stringify(delta),
        appliedAt: delta.at,
      });
      if (!res.applied) {
        // Someone else moved the offset (or the store was flushed): continue from where it is.
        stats.refused++;
        init = res.offset === null;
        from = res.offset ?? batchW;
        continue;
      }
      stats.batches++;
      stats.events += rows.length;
      applied += rows.length;
      init = false;
      from = to;
      await opts.leases?.touch();
    }
    return applied;
  }

  function contributions(p: number, from: number, to: number, rows: pg.QueryResultRow[]) {
    const perSlice = new Map<number, Map<string, number[]>[]>();
    const whole = reducers.map(() => new Map<string, number[]>());
    let maxEventTime: number | null = null;
    for (const row of rows) {
      const ev = {
        type: row.type as string,
        eventTime: Number(row.event_time),
        payload: row.payload as Record<string, unknown>,
      };
      maxEventTime = maxEventTime === null ? ev.eventTime : Math.max(maxEventTime, ev.eventTime);
      const slice = Math.floor(Number(row.log_offset) / opts.slice);
      let maps = perSlice.get(slice);
      if (!maps) perSlice.set(slice, (maps = reducers.map(() => new Map())));
      reducers.forEach(({ reduce }, i) => {
        reduce(ev, maps![i]);
        reduce(ev, whole[i]);
      });
    }
    const updates: CellUpdate[] = [];
    for (const [slice, maps] of perSlice) {
      reducers.forEach(({ m }, i) => {
        for (const [key, cells] of maps[i]) {
          const { bucket } = parseStateKey(key);
          cells.forEach((value, c) => {
            const op = m.cellOps[c];
            if (op === 'sum' && value === 0) return;
            updates.push({ metric: m.name, slice, bucket, field: cellField(key, c), op, value });
          });
        }
      });
    }
    const items: DeltaPayload['items'] = [];
    reducers.forEach(({ m }, i) => {
      for (const [key, cells] of whole[i]) {
        const { bucket, dims } = parseStateKey(key);
        items.push([m.name, bucket, dims, cells]);
      }
    });
    const delta: DeltaPayload = { p, from, to, at: Date.now(), maxEventTime, items };
    return { updates, delta };
  }

  async function cycle(): Promise<number> {
    let total = 0;
    const mine = opts.leases ? await opts.leases.owned() : null;
    stats.partitions = mine ? [...mine].sort((a, b) => a - b) : null;
    for (const { p, loaded, batch } of await positions()) {
      if (mine && !mine.has(p)) continue;
      total += await catchUp(p, loaded, batch);
      const keepFrom = Math.floor(batch / opts.slice) - retain;
      if (keepFrom > 0)
        await opts.store.prune(
          p,
          keepFrom,
          opts.metrics.map((m) => m.name),
        );
    }
    return total;
  }

  return {
    stats,
    /** Wake the applier (the loader calls this after each commit). */
    kick: () => loop.kick(),
    /** Run one pass over all partitions (tests and the CLI's catch-up use it). */
    cycle,
    start(): void {
      stopping = false;
      loop.start();
    },
    async stop(): Promise<void> {
      stopping = true;
      await loop.stop();
      await opts.leases?.close();
    },
  };
}

export type SpeedApplier = ReturnType<typeof createSpeedApplier>;
