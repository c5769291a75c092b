import type { FloorMap } from '../floor.ts';
import { MinHeap } from '../heap.ts';
import { createRng, deriveSeed } from '../prng.ts';
import { generateToolMaster } from './tool-master.ts';

/** One row of the orders table (MYCPU.md "Repair and purchase orders"); times are epoch ms. */
export interface OrderRow {
  orderId: string;
  kind: 'repair' | 'purchase';
  /** Machine id (repairs), tool id or part name (purchases). */
  subject: string;
  /** 1 (line down) … 4 (cosmetic) for repairs; null for purchases. */
  severity: number | null;
  status: 'requested' | 'confirmed' | 'completed' | 'received';
  requestedAt: number;
  confirmedAt: number | null;
  /** When the repair completed or the purchase was received. */
  completedAt: number | null;
  updatedAt: number;
  note: string | null;
}

/**
 * One committed change. `row` is the row after an insert/update and the row as it was for a
 * delete. `fault` marks the note-only update (a change that moves nothing) and deletes.
 */
export interface OrderChange {
  op: 'insert' | 'update' | 'delete';
  at: number;
  row: OrderRow;
  /** A repair whose status became 'completed' in this change. */
  completes: boolean;
  fault: 'note_only_update' | 'deleted' | null;
}

export interface OrdersModelOptions {
  seed: number;
  startTime: number;
  floor: FloorMap;
  /** Mean changes per simulated day (inserts + status moves + notes + deletes). Default 50. */
  changesPerDay?: number;
  /** Fault multiplier (note-only updates, deletes). Default 1. */
  faultRate?: number;
  /** Time in the order ids (unique per run; see WriterContext.liveStart). Default `startTime`. */
  idTime?: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Mean changes one order makes: insert, confirm, complete, sometimes a note or a delete. */
const CHANGES_PER_ORDER = 3.2;
const PARTS = ['heat spreader', 'substrate', 'thermal paste', 'bond wire', 'lid adhesive', 'tray'];
/** Repair time by severity (1 = line down, fixed fastest), hours [min, mode, max]. */
const REPAIR_HOURS: Record<number, [number, number, number]> = {
  1: [1, 2, 6],
  2: [2, 6, 16],
  3: [4, 16, 48],
  4: [8, 36, 96],
};

type Step = 'arrive' | 'confirm' | 'complete' | 'note' | 'delete';
interface Due {
  at: number;
  seq: number;
  step: Step;
  orderId: string;
}

/**
 * Deterministic orders: a Poisson stream of new orders (machine breakdowns → repair orders on a
 * random machine of the floor, otherwise purchases of tools and parts), each moving
 * requested → confirmed → completed/received; some get a note-only update, some are deleted
 * (open ones cancelled, old completed ones cleaned up). One PRNG drawn in (time, seq) order, so
 * the output does not depend on how `until` is paced.
 */
export function createOrdersModel(opts: OrdersModelOptions) {
  const rng = createRng(deriveSeed(opts.seed, 'orders'));
  const faultRate = opts.faultRate ?? 1;
  const meanGap = DAY / ((opts.changesPerDay ?? 50) / CHANGES_PER_ORDER);
  const machines = opts.floor.stations.flatMap((s) => s.machines);
  const tools = generateToolMaster(opts.seed).map((t) => t.toolId);
  const prefix = `${opts.seed.toString(36)}.${(opts.idTime ?? opts.startTime).toString(36)}`;
  const rows = new Map<string, OrderRow>();
  const heap = new MinHeap<Due>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  let seq = 0;
  let made = 0;
  const schedule = (at: number, step: Step, orderId: string) =>
    heap.push({ at: Math.round(at), seq: seq++, step, orderId });
  schedule(opts.startTime + rng.exp(meanGap), 'arrive', '');

  function arrive(at: number): OrderChange {
    schedule(at + rng.exp(meanGap), 'arrive', '');
    const repair = rng.chance(0.6); // a machine breakdown
    const n = made++;
    const row: OrderRow = {
      orderId: `${repair ? 'RO' : 'PO'}-${prefix}-${n}`,
      kind: repair ? 'repair' : 'purchase',
      subject: repair ? rng.pick(machines) : rng.chance(0.5) ? rng.pick(tools) : rng.pick(PARTS),
      severity: repair ? rng.pick([1, 2, 2, 3, 3, 3, 4, 4]) : null,
      status: 'requested',
      requestedAt: at,
      confirmedAt: null,
      completedAt: null,
      updatedAt: at,
      note: null,
    };
    rows.set(row.orderId, row);
    const confirmAt = at + rng.int(5, 120) * 60_000;
    const doneAt = repair
      ? confirmAt + rng.triangular(...REPAIR_HOURS[row.severity!]) * HOUR + rng.int(0, 59) * 60_000
      : confirmAt + rng.int(1, 5) * DAY + rng.int(0, 23) * HOUR;
    if (rng.chance(0.08 * faultRate)) schedule(at + rng.next() * (doneAt - at), 'delete', row.orderId); // cancelled
    schedule(confirmAt, 'confirm', row.orderId);
    schedule(doneAt, 'complete', row.orderId);
    if (rng.chance(0.1 * faultRate)) schedule(at + rng.next() * (doneAt - at), 'note', row.orderId);
    if (rng.chance(0.05 * faultRate)) schedule(doneAt + rng.int(1, 7) * DAY, 'delete', row.orderId); // cleaned up later
    return { op: 'insert', at, row: { ...row }, completes: false, fault: null };
  }

  function step(d: Due): OrderChange | null {
    if (d.step === 'arrive') return arrive(d.at);
    const old = rows.get(d.orderId);
    if (!old) return null; // deleted before this step was due
    if (d.step === 'delete') {
      rows.delete(d.orderId);
      return { op: 'delete', at: d.at, row: old, completes: false, fault: 'deleted' };
    }
    const row: OrderRow = { ...old, updatedAt: d.at };
    if (d.step === 'note')
      row.note = rng.pick([
        'waiting for spare part',
        'technician reassigned',
        'vendor called back',
        'priority reviewed',
      ]);
    else if (d.step === 'confirm') Object.assign(row, { status: 'confirmed', confirmedAt: d.at });
    else Object.assign(row, { status: row.kind === 'repair' ? 'completed' : 'received', completedAt: d.at });
    rows.set(row.orderId, row);
    return {
      op: 'update',
      at: d.at,
      row: { ...row },
      completes: d.step === 'complete' && row.kind === 'repair',
      fault: d.step === 'note' ? 'note_only_update' : null,
    };
  }

  return {
    /** Every change due before `until`, in time order. */
    until(until: number): OrderChange[] {
      const out: OrderChange[] = [];
      while ((heap.peek()?.at ?? Infinity) < until) {
        const c = step(heap.pop()!);
        if (c) out.push(c);
      }
      return out;
    },
    /** Current rows (what the table must hold). */
    current: (): OrderRow[] => [...rows.values()].map((r) => ({ ...r })),
  };
}

export type OrdersModel = ReturnType<typeof createOrdersModel>;
