import type { MachiningEvent } from './wire.ts';

/**
 * The ground truth, computed straight from generated events and deliberately NOT from the
 * pipeline's metric definitions (`metrics/`): if both shared code, a bug there would be invisible.
 */

/** Cycle-time histogram bounds, ms: part of the report spec (MYCPU.md, report 1), kept here on purpose. */
export const CYCLE_TIME_BOUNDS_MS: readonly number[] = Object.freeze([15_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000]);

export const MINUTE_MS = 60_000;

/** The facts the ledger holds, one row per (fact, minute, station, errorCode). */
export const FACTS = [
  'parts_entered',
  'parts_exited',
  'station_errors',
  'cycle_time_count',
  'cycle_time_sum',
  ...CYCLE_TIME_BOUNDS_MS.map((_, i) => `cycle_time_bucket_${i}`),
  `cycle_time_bucket_${CYCLE_TIME_BOUNDS_MS.length}`,
] as const;

export const floorMinute = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/** Bucket i counts bounds[i-1] < v ≤ bounds[i]; the last bucket counts v > the last bound. */
export function cycleTimeBucket(v: number): number {
  const i = CYCLE_TIME_BOUNDS_MS.findIndex((b) => v <= b);
  return i < 0 ? CYCLE_TIME_BOUNDS_MS.length : i;
}

export interface FactRow {
  fact: string;
  /** Minute start, epoch ms (UTC). */
  minute: number;
  station: string;
  /** Only for `station_errors`; null otherwise. */
  errorCode: string | null;
  value: number;
}

/** Sums the facts of one acked batch; emptied after each flush so memory stays bounded. */
export class FactAccumulator {
  private readonly cells = new Map<string, FactRow>();

  get size(): number {
    return this.cells.size;
  }

  add(ev: MachiningEvent): void {
    const minute = floorMinute(ev.at);
    if (ev.kind === 'enter') {
      this.bump('parts_entered', minute, ev.station, null, 1);
      return;
    }
    this.bump('parts_exited', minute, ev.station, null, 1);
    if (ev.errorCode !== null) this.bump('station_errors', minute, ev.station, ev.errorCode, 1);
    if (ev.cycleTimeMs !== null) {
      this.bump('cycle_time_count', minute, ev.station, null, 1);
      this.bump('cycle_time_sum', minute, ev.station, null, ev.cycleTimeMs);
      this.bump(`cycle_time_bucket_${cycleTimeBucket(ev.cycleTimeMs)}`, minute, ev.station, null, 1);
    }
  }

  /** The accumulated rows, and reset. */
  take(): FactRow[] {
    const rows = [...this.cells.values()];
    this.cells.clear();
    return rows;
  }

  private bump(fact: string, minute: number, station: string, errorCode: string | null, by: number): void {
    const key = `${fact}\u0000${minute}\u0000${station}\u0000${errorCode ?? ''}`;
    const cell = this.cells.get(key);
    if (cell) cell.value += by;
    else this.cells.set(key, { fact, minute, station, errorCode, value: by });
  }
}
