import type { Resolvers, AttendanceGroup } from '../generated/workforce.ts';
import { iso, parseRange } from '../validate-args.ts';
import { checkIds, checkTop, parseWindow, toBucket, toFreshness } from '../shared/window.ts';
import { connectionOf } from '../shared/connection.ts';
import { liveUpdates, resolveUpdate } from '../shared/updates.ts';
import type { ResolverContext } from '../context.ts';
import { floorRefs, type IdRef } from '../shared/refs.ts';
import type { CalendarGrain } from '../../serving/calendar.ts';
import {
  ATTENDANCE_METRICS,
  addPoint,
  attendanceFigures,
  emptyAttendance,
  readAttendance,
  readWorkers,
  workerFigures,
  type AttendanceSums,
} from './figures.ts';

/** Employee id → name, once per request (the entities are read once per request by the loaders). */
const namesOf = new WeakMap<object, Map<string, string>>();
async function workerNames(ctx: ResolverContext): Promise<Map<string, string>> {
  const rows = await ctx.loaders.entities('worker');
  let names = namesOf.get(rows);
  if (!names) {
    names = new Map();
    for (const r of rows) {
      const name = (r.data as { name?: unknown } | null)?.name;
      if (!r.deleted && typeof name === 'string') names.set(r.key, name);
    }
    namesOf.set(rows, names);
  }
  return names;
}

/** A worker as `WorkerFigures.worker` hands it on: the id, and where the figures placed them. */
type WorkerRef = IdRef & { department?: string | null; shift?: string | null };

/**
 * Resolvers of the workforce subgraph (schema/workforce.graphql): report 2 — attendance, absences
 * by reason, hours per department and shift, utilisation per worker, task hours and staffing per
 * station — and live attendance. Employee ids and names travel only inside `Worker` (pii:read);
 * names come from the `worker` entities the clock-in connector keeps (null when never named).
 */
export function createWorkforceResolvers(): Resolvers {
  return {
    Grain: { MINUTE: 'minute', HOUR: 'hour', SHIFT: 'shift', DAY: 'day', WEEK: 'week', MONTH: 'month' },
    Query: {
      attendance: (_root, args, ctx) => attendanceReport(ctx, args),
      absences: (_root, args, ctx) => absenceReport(ctx, args),
      workers: async (_root, args, ctx) => {
        const range = parseRange(args);
        const dir = await ctx.loaders.directory();
        const departments = checkIds('department', args.departments, dir.departments);
        const shifts = checkIds(
          'shift',
          args.shifts,
          ctx.calendar.shifts.map((s) => s.id),
        );
        const { workers } = await readWorkers(ctx, range, (s) => dir.station(s)?.department ?? null);
        let rows = workers
          .filter(
            (w) =>
              (!departments || (w.department !== null && departments.includes(w.department))) &&
              (!shifts || (w.shift !== null && shifts.includes(w.shift))),
          )
          .map((w) => ({ w, f: workerFigures(w) }));
        const order = args.orderBy;
        if (order && order.field !== 'ID') {
          const value = (r: (typeof rows)[number]) =>
            order.field === 'UTILISATION' ? (r.f.utilisation ?? -1) : r.f.hoursWorked;
          const sign = order.direction === 'ASC' ? 1 : -1;
          rows = rows
            .map((r, i) => ({ r, i }))
            .sort((a, b) => sign * (value(a.r) - value(b.r)) || a.i - b.i)
            .map((x) => x.r);
        } else if (order?.direction === 'DESC') rows.reverse();
        // Cursors are positions, not ids: a Relay cursor is readable by anyone, an employee id is personal data.
        const nodes = rows.map((r, i) => ({
          ...r.f,
          worker: { id: r.w.id, department: r.w.department, shift: r.w.shift } as WorkerRef,
          rank: i + 1,
        }));
        return connectionOf(nodes, (n) => n.rank, args);
      },
      taskHours: async (_root, args, ctx) => {
        const range = parseRange(args);
        const dir = await ctx.loaders.directory();
        const stations = checkIds(
          'station',
          args.stations,
          dir.stations.map((s) => s.id),
        );
        const per = await stationTasks(ctx, range);
        return dir.stations
          .filter((s) => !stations || stations.includes(s.id))
          .map((s) => ({
            station: s,
            taskHours: (per.get(s.id)?.ms ?? 0) / 3_600_000,
            workers: per.get(s.id)?.operators.size ?? 0,
          }));
      },
    },
    Subscription: {
      attendanceUpdates: {
        subscribe: async (_root, args, ctx) => {
          const dir = await ctx.loaders.directory();
          const wanted = checkIds('department', args.departments, dir.departments);
          const keep = (d: string) => !wanted || wanted.includes(d);
          return liveUpdates(ctx, {
            after: args.after ?? null,
            metrics: new Set(ATTENDANCE_METRICS),
            snapshot: async () => {
              const now = Date.now();
              const r = await readAttendance(ctx, { from: now - 1, to: now, grain: 'day', zone: ctx.calendar.zone });
              return {
                items: attendanceItems(
                  r.points.map((p) => ({ ...p, bucket: r.buckets[0].start })),
                  keep,
                ),
                freshness: r.freshness,
              };
            },
            itemsOf: (d) =>
              attendanceItems(
                d.items.map((i) => ({
                  bucket: i.bucket,
                  department: i.dims.department ?? '',
                  shift: i.dims.shift ?? '',
                  metric: ATTENDANCE_METRICS.indexOf(i.metric as (typeof ATTENDANCE_METRICS)[number]),
                  value: i.cells[0] ?? 0,
                })),
                keep,
              ),
          });
        },
        resolve: resolveUpdate,
      },
    },
    WorkerFigures: {
      worker: (f) => f.worker ?? null,
    },
    Worker: {
      __resolveReference: (ref) => ({ id: ref.id! }),
      // The clock-in sheet's Name, as the excel connector keeps it in the `worker` entities.
      name: async (w, _args, ctx) => (await workerNames(ctx)).get(w.id) ?? null,
      department: (w) => ((w as WorkerRef).department ? { id: (w as WorkerRef).department! } : null),
      shift: (w) => ((w as WorkerRef).shift ? { id: (w as WorkerRef).shift! } : null),
    },
    Station: {
      __resolveReference: floorRefs.station,
      staffing: async (s, args, ctx) => (await stationTasks(ctx, parseRange(args))).get(s.id)?.operators.size ?? 0,
    },
    Department: {
      __resolveReference: floorRefs.department,
      attendance: async (d, args, ctx) => {
        const { from, to } = parseRange(args);
        const r = await readAttendance(ctx, { from, to, grain: null, zone: 'UTC' });
        const sums = emptyAttendance();
        for (const p of r.points) if (p.department === d.id) addPoint(sums, p);
        return attendanceFigures(sums);
      },
    },
    Shift: {
      __resolveReference: floorRefs.shift,
    },
  };
}

/** Task time and the distinct operators per station over a range (one read per request). */
async function stationTasks(ctx: ResolverContext, range: { from: number; to: number }) {
  const r = await ctx.loaders.read({ metric: 'operator_task_ms', ...range, grain: null, zone: 'UTC' });
  const out = new Map<string, { ms: number; operators: Set<string> }>();
  for (const p of r.points) {
    const s = out.get(p.dims.station) ?? out.set(p.dims.station, { ms: 0, operators: new Set() }).get(p.dims.station)!;
    s.ms += p.cells[0];
    if (p.cells[0] > 0 && p.dims.operator) s.operators.add(p.dims.operator);
  }
  return out;
}

function attendanceItems(
  points: Array<{ bucket: number; department: string; shift: string; metric: number; value: number }>,
  keep: (d: string) => boolean,
) {
  const out = new Map<string, { department: string; shift: string; bucket: number; sums: AttendanceSums }>();
  for (const p of points) {
    if (p.metric < 0 || !keep(p.department)) continue;
    const k = `${p.bucket}\u0000${p.department}\u0000${p.shift}`;
    const item =
      out.get(k) ??
      out.set(k, { department: p.department, shift: p.shift, bucket: p.bucket, sums: emptyAttendance() }).get(k)!;
    addPoint(item.sums, p);
  }
  return [...out.values()]
    .sort((a, b) => a.bucket - b.bucket || a.department.localeCompare(b.department) || a.shift.localeCompare(b.shift))
    .map((i) => ({
      department: i.department,
      shift: i.shift,
      bucket: iso(i.bucket),
      present: i.sums.present,
      absent: i.sums.absent,
      hoursWorked: i.sums.minutes / 60,
    }));
}

type GrainArg = CalendarGrain | null | undefined;

async function attendanceReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: GrainArg;
    timeZone?: string | null;
    departments?: string[] | null;
    shifts?: string[] | null;
    groupBy?: AttendanceGroup[] | null;
  },
) {
  const w = parseWindow(args, ctx, 'day');
  const dir = await ctx.loaders.directory();
  const departments = checkIds('department', args.departments, dir.departments);
  const shifts = checkIds(
    'shift',
    args.shifts,
    ctx.calendar.shifts.map((s) => s.id),
  );
  const groupBy = new Set(args.groupBy ?? ['DEPARTMENT', 'SHIFT']);
  const byTime = groupBy.has('TIME');
  const r = await readAttendance(ctx, { ...w, grain: byTime ? w.grain : null });
  const rows = new Map<
    string,
    { bucket: number | null; department: string | null; shift: string | null; sums: AttendanceSums }
  >();
  const total = emptyAttendance();
  for (const p of r.points) {
    if ((departments && !departments.includes(p.department)) || (shifts && !shifts.includes(p.shift))) continue;
    addPoint(total, p);
    const key = {
      bucket: byTime ? p.bucket : null,
      department: groupBy.has('DEPARTMENT') ? p.department : null,
      shift: groupBy.has('SHIFT') ? p.shift : null,
    };
    const k = JSON.stringify(key);
    const row = rows.get(k) ?? rows.set(k, { ...key, sums: emptyAttendance() }).get(k)!;
    addPoint(row.sums, p);
  }
  const out = [...rows.values()]
    .filter((x) => x.sums.present !== 0 || x.sums.absent !== 0 || x.sums.minutes !== 0)
    .sort(
      (a, b) =>
        (a.bucket ?? 0) - (b.bucket ?? 0) ||
        String(a.department).localeCompare(String(b.department)) ||
        String(a.shift).localeCompare(String(b.shift)),
    );
  return {
    from: iso(r.buckets[0].start),
    to: iso(r.buckets.at(-1)!.end),
    grain: w.grain,
    timeZone: w.zone,
    rows: out.map((x) => ({
      bucket: x.bucket === null ? null : toBucket(r.buckets[x.bucket]),
      department: x.department === null ? null : { id: x.department },
      shift: x.shift === null ? null : { id: x.shift },
      figures: attendanceFigures(x.sums),
    })),
    total: attendanceFigures(total),
    freshness: toFreshness(r.freshness),
  };
}

async function absenceReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: GrainArg;
    timeZone?: string | null;
    reasons?: string[] | null;
    byTime?: boolean | null;
    top?: number | null;
  },
) {
  const w = parseWindow(args, ctx, 'day');
  const top = checkTop(args.top);
  const byTime = args.byTime ?? false;
  const r = await ctx.loaders.read({ metric: 'absences', ...w, grain: byTime ? w.grain : null });
  const reasons = args.reasons ? new Set(args.reasons) : null;
  const rows = new Map<string, { bucket: number | null; reason: string; count: number }>();
  let total = 0;
  for (const p of r.points) {
    if (reasons && !reasons.has(p.dims.reason)) continue;
    const key = { bucket: byTime ? p.bucket : null, reason: p.dims.reason };
    const k = JSON.stringify(key);
    const row = rows.get(k) ?? rows.set(k, { ...key, count: 0 }).get(k)!;
    row.count += p.cells[0];
    total += p.cells[0];
  }
  let out = [...rows.values()]
    .filter((x) => x.count !== 0)
    .sort((a, b) => (a.bucket ?? 0) - (b.bucket ?? 0) || b.count - a.count || a.reason.localeCompare(b.reason));
  if (top !== null) out = out.slice(0, top);
  return {
    rows: out.map((x) => ({
      bucket: x.bucket === null ? null : toBucket(r.buckets[x.bucket]),
      reason: x.reason,
      count: x.count,
    })),
    total,
    freshness: toFreshness(r.freshness),
  };
}
