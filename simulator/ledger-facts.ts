import type { MachiningEvent } from './wire.ts';

/**
 * The ground truth, computed straight from generated events and deliberately NOT from the
 * pipeline's metric definitions (`metrics/`): if both shared code, a bug there would be invisible.
 */

/** Cycle-time histogram bounds, ms: part of the report spec (MYCPU.md, report 1), kept here on purpose. */
export const CYCLE_TIME_BOUNDS_MS: readonly number[] = Object.freeze([
  15_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000,
]);

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
  // station = the station, errorCode = the operator (employee id): cycle time of its exits.
  'operator_task_ms',
] as const;

export const floorMinute = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/** Bucket i counts bounds[i-1] < v ≤ bounds[i]; the last bucket counts v > the last bound. */
export function cycleTimeBucket(v: number): number {
  const bounds = CYCLE_TIME_BOUNDS_MS;
  for (let i = 0; i < bounds.length; i++) if (v <= bounds[i]) return i;
  return bounds.length;
}

export interface FactRow {
  fact: string;
  /** Minute start, epoch ms (UTC). */
  minute: number;
  station: string;
  /** `station_errors`: the error code; `operator_task_ms`: the operator; null otherwise. */
  errorCode: string | null;
  value: number;
}

/** One station's counts in one minute; a fact's row exists only once something was counted in it. */
interface StationMinute {
  entered: number;
  exited: number;
  /** Exits with a cycle time: `cycle_time_count`; their sum and histogram below. */
  timed: number;
  timeSum: number;
  buckets: number[];
  errors: Map<string, number> | null;
  /** Cycle time of the exits per operator (the event's own string as key: nothing built per event). */
  operators: Map<string, number> | null;
}

const BUCKET_FACTS = Array.from({ length: CYCLE_TIME_BOUNDS_MS.length + 1 }, (_, i) => `cycle_time_bucket_${i}`);

/**
 * Sums the facts of one acked batch; emptied after each flush so memory stays bounded. Counts are
 * kept per (minute, station) in numbers, not per fact in string-keyed cells: `add` runs for each
 * of ~50 M events a year, and building a key string per fact was most of its cost.
 */
export class FactAccumulator {
  private readonly minutes = new Map<number, Map<string, StationMinute>>();

  /** Rows `take()` would return (counted when asked: `add` keeps no count of its own). */
  get size(): number {
    let n = 0;
    for (const _ of this.rows()) n++;
    return n;
  }

  add(ev: MachiningEvent): void {
    const cell = this.cell(floorMinute(ev.at), ev.station);
    if (ev.kind === 'enter') {
      cell.entered++;
      return;
    }
    cell.exited++;
    if (ev.errorCode !== null) {
      const errors = (cell.errors ??= new Map());
      errors.set(ev.errorCode, (errors.get(ev.errorCode) ?? 0) + 1);
    }
    if (ev.cycleTimeMs !== null) {
      cell.timed++;
      cell.timeSum += ev.cycleTimeMs;
      cell.buckets[cycleTimeBucket(ev.cycleTimeMs)]++;
      const ops = (cell.operators ??= new Map());
      ops.set(ev.operator, (ops.get(ev.operator) ?? 0) + ev.cycleTimeMs);
    }
  }

  /** The accumulated rows, and reset. */
  take(): FactRow[] {
    const rows = [...this.rows()];
    this.minutes.clear();
    return rows;
  }

  /** One row per fact counted in a (minute, station): a fact with nothing counted has no row. */
  private *rows(): Generator<FactRow> {
    for (const [minute, stations] of this.minutes) {
      for (const [station, c] of stations) {
        const row = (fact: string, value: number, errorCode: string | null = null): FactRow => ({
          fact,
          minute,
          station,
          errorCode,
          value,
        });
        if (c.entered > 0) yield row('parts_entered', c.entered);
        if (c.exited > 0) yield row('parts_exited', c.exited);
        if (c.errors) for (const [code, n] of c.errors) yield row('station_errors', n, code);
        if (c.timed > 0) {
          yield row('cycle_time_count', c.timed);
          yield row('cycle_time_sum', c.timeSum);
          for (let i = 0; i < c.buckets.length; i++) if (c.buckets[i] > 0) yield row(BUCKET_FACTS[i], c.buckets[i]);
        }
        if (c.operators) for (const [operator, ms] of c.operators) yield row('operator_task_ms', ms, operator);
      }
    }
  }

  private cell(minute: number, station: string): StationMinute {
    let stations = this.minutes.get(minute);
    if (!stations) this.minutes.set(minute, (stations = new Map()));
    let c = stations.get(station);
    if (!c)
      stations.set(
        station,
        (c = {
          entered: 0,
          exited: 0,
          timed: 0,
          timeSum: 0,
          buckets: new Array<number>(BUCKET_FACTS.length).fill(0),
          errors: null,
          operators: null,
        }),
      );
    return c;
  }
}
