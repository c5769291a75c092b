import { mergeFreshness, type CalendarResult } from '../../serving/calendar-series.ts';
import type { Freshness } from '../../serving/types.ts';
import type { CalendarGrain } from '../../serving/calendar.ts';
import type { ResolverContext } from '../context.ts';

/** The clock-in metrics behind `AttendanceFigures`, in this order. */
export const ATTENDANCE_METRICS = ['attendance', 'absent_by_department', 'minutes_worked'] as const;

export interface AttendanceSums {
  present: number;
  absent: number;
  minutes: number;
}

export const emptyAttendance = (): AttendanceSums => ({ present: 0, absent: 0, minutes: 0 });

/** The API's `AttendanceFigures`. */
export function attendanceFigures(s: AttendanceSums) {
  const expected = s.present + s.absent;
  return {
    present: s.present,
    absent: s.absent,
    attendanceRate: expected > 0 ? s.present / expected : null,
    hoursWorked: s.minutes / 60,
  };
}

/** One attendance point: a (bucket, department, shift) cell of one of the three metrics. */
export interface AttendancePoint {
  bucket: number;
  department: string;
  shift: string;
  /** Which of ATTENDANCE_METRICS. */
  metric: number;
  value: number;
}

/** The three clock-in metrics over the same buckets, as points. */
export async function readAttendance(
  ctx: ResolverContext,
  w: { from: number; to: number; grain: CalendarGrain | null; zone: string },
): Promise<{ buckets: CalendarResult['buckets']; points: AttendancePoint[]; freshness: Freshness }> {
  const reads = await Promise.all(ATTENDANCE_METRICS.map((metric) => ctx.loaders.read({ metric, ...w })));
  const points = reads.flatMap((r, metric) =>
    r.points.map((p) => ({
      bucket: p.bucket,
      department: p.dims.department,
      shift: p.dims.shift,
      metric,
      value: p.cells[0],
    })),
  );
  const freshness = mergeFreshness(
    reads.map((r) => ({ f: r.freshness, total: r.points.reduce((s, p) => s + Math.abs(p.cells[0]), 0) })),
  );
  return { buckets: reads[0].buckets, points, freshness };
}

/** Adds one point to sums. */
export function addPoint(s: AttendanceSums, p: AttendancePoint): void {
  if (p.metric === 0) s.present += p.value;
  else if (p.metric === 1) s.absent += p.value;
  else s.minutes += p.value;
}

/** One worker's figures over a range, keyed by employee id (personal data: never in a non-pii field). */
export interface WorkerSums {
  id: string;
  department: string | null;
  shift: string | null;
  minutes: number;
  taskMs: number;
}

/**
 * Hours worked (worker_minutes) and task time (operator_task_ms) per employee over [from, to).
 * A worker's department and shift are those of their clock-in rows (the one with most minutes);
 * a worker with task time but no closed row gets the department of the station they worked most.
 */
export async function readWorkers(
  ctx: ResolverContext,
  range: { from: number; to: number },
  departmentOfStation: (station: string) => string | null,
) {
  const [minutes, task] = await Promise.all(
    ['worker_minutes', 'operator_task_ms'].map((metric) =>
      ctx.loaders.read({ metric, ...range, grain: null, zone: 'UTC' }),
    ),
  );
  const workers = new Map<string, WorkerSums & { placeMinutes: Map<string, number> }>();
  const of = (id: string) =>
    workers.get(id) ??
    workers.set(id, { id, department: null, shift: null, minutes: 0, taskMs: 0, placeMinutes: new Map() }).get(id)!;
  for (const p of minutes.points) {
    const w = of(p.dims.employee);
    w.minutes += p.cells[0];
    const place = `${p.dims.department}\u0000${p.dims.shift}`;
    w.placeMinutes.set(place, (w.placeMinutes.get(place) ?? 0) + p.cells[0]);
  }
  const stationMs = new Map<string, Map<string, number>>();
  for (const p of task.points) {
    const w = of(p.dims.operator);
    w.taskMs += p.cells[0];
    const m = stationMs.get(w.id) ?? stationMs.set(w.id, new Map()).get(w.id)!;
    m.set(p.dims.station, (m.get(p.dims.station) ?? 0) + p.cells[0]);
  }
  const best = <K>(m: Map<K, number> | undefined): K | null => {
    let out: K | null = null;
    let max = -Infinity;
    for (const [k, v] of m ?? []) if (v > max) [out, max] = [k, v];
    return out;
  };
  const out: WorkerSums[] = [];
  for (const w of workers.values()) {
    if (w.minutes === 0 && w.taskMs === 0) continue; // every row retracted
    const place = best(w.placeMinutes);
    const [department, shift] = place === null ? [null, null] : place.split('\u0000');
    const station = best(stationMs.get(w.id));
    out.push({
      id: w.id,
      department: department ?? (station === null ? null : departmentOfStation(station)),
      shift: shift ?? null,
      minutes: w.minutes,
      taskMs: w.taskMs,
    });
  }
  out.sort((a, b) => a.id.localeCompare(b.id));
  const freshness = mergeFreshness([minutes, task].map((r) => ({ f: r.freshness, total: r.points.length })));
  return { workers: out, task, freshness };
}

/** The API's `WorkerFigures` (the `worker` reference is only resolved for pii:read). */
export function workerFigures(w: WorkerSums) {
  const hoursWorked = w.minutes / 60;
  const taskHours = w.taskMs / 3_600_000;
  return {
    worker: { id: w.id },
    department: w.department === null ? null : { id: w.department },
    shift: w.shift === null ? null : { id: w.shift },
    hoursWorked,
    taskHours,
    utilisation: hoursWorked > 0 ? taskHours / hoursWorked : null,
  };
}
