import { createRng, deriveSeed } from '../prng.ts';

/** One production work order as the ERP table holds it (MYCPU.md "Production work orders"). */
export interface WorkOrderRow {
  woId: string;
  sku: string;
  plannedQty: number;
  /** Calendar date, `YYYY-MM-DD`. */
  dueDate: string;
  /** Time of the change that produced this version, epoch ms (UTC). */
  updatedAt: number;
}

/** The MyCPU products. */
export const SKUS = ['MYCPU-C3-2400', 'MYCPU-C5-3200', 'MYCPU-C7-3600', 'MYCPU-C9-4200', 'MYCPU-X1-SRV'] as const;

export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Only recent orders get amended; older ones are in production and frozen. */
const AMENDABLE = 40;

const isoDate = (t: number) => new Date(t).toISOString().slice(0, 10);
const hourStamp = (t: number) => new Date(t).toISOString().slice(0, 13).replace(/[-T]/g, '');

/**
 * The ERP's hourly work-order sync, as a deterministic model: each simulated hour it creates
 * 0–3 orders and amends up to two recent ones (planned quantity changed, due date moved). Every
 * change of an hour carries the same `updatedAt` (the sync runs as one transaction at the top of
 * the hour), which is exactly the case a watermark poller must not skip rows in.
 * Each hour draws from its own PRNG stream, so chunking `advanceTo` never changes the output.
 */
export function createWorkOrderModel(seed: number) {
  const orders = new Map<string, WorkOrderRow>();
  const recent: string[] = [];
  const prefix = `WO-${seed.toString(36)}`;

  return {
    /** The changes of the sync at hour boundary `hour` (epoch ms, a multiple of HOUR_MS). */
    hour(hour: number): WorkOrderRow[] {
      const rng = createRng(deriveSeed(seed, `work-orders:${hour}`));
      const changed: WorkOrderRow[] = [];
      const amend = Math.min(recent.length, rng.int(0, 2));
      const touched = new Set<string>();
      for (let i = 0; i < amend; i++) {
        const id = recent[rng.int(0, recent.length - 1)];
        if (touched.has(id)) continue;
        touched.add(id);
        const old = orders.get(id)!;
        const next = { ...old, updatedAt: hour };
        if (rng.chance(0.5)) next.plannedQty = Math.max(10, old.plannedQty + 10 * rng.int(-20, 30));
        else
          next.dueDate = isoDate(Date.parse(old.dueDate) + DAY_MS * (rng.chance(0.7) ? rng.int(1, 7) : -rng.int(1, 3)));
        changed.push(next);
      }
      const created = rng.int(0, 3);
      for (let i = 0; i < created; i++) {
        const wo: WorkOrderRow = {
          woId: `${prefix}-${hourStamp(hour)}-${i}`,
          sku: rng.pick(SKUS),
          plannedQty: 10 * rng.int(5, 200),
          dueDate: isoDate(hour + DAY_MS * rng.int(3, 21)),
          updatedAt: hour,
        };
        changed.push(wo);
        recent.push(wo.woId);
        if (recent.length > AMENDABLE) recent.shift();
      }
      for (const wo of changed) orders.set(wo.woId, wo);
      return changed;
    },
    /** Current state of every order generated so far. */
    current(): WorkOrderRow[] {
      return [...orders.values()];
    },
  };
}

export type WorkOrderModel = ReturnType<typeof createWorkOrderModel>;
