import type pg from 'pg';
import type { GraphqlOptions } from './graphql.ts';
import { apiBucket, bucketOf, key, minuteFacts, queryReport, ReportTally, type ReportRange } from './report-tally.ts';

/**
 * Report 2 (workforce) against the ledger: `attendance` by time × department × shift (present,
 * absent, rate, hours), `absences` by time × reason, and over the whole range `workers` (hours
 * worked, task hours, utilisation per employee), `taskHours` and `staffing` per station. Expected
 * values come from the clock-in writer's facts (bucketed at the shift start) and the machining
 * ledger's operator task time. Worker ids are personal data: the API must grant verify pii:read.
 */
const QUERY = `query VerifyWorkforce($from: DateTime!, $to: DateTime!, $grain: Grain!, $tz: String!) {
  attendance(from: $from, to: $to, grain: $grain, timeZone: $tz, groupBy: [TIME, DEPARTMENT, SHIFT]) {
    rows { bucket { start end } department { id } shift { id } figures { present absent attendanceRate hoursWorked } }
    total { present absent hoursWorked }
  }
  absences(from: $from, to: $to, grain: $grain, timeZone: $tz, byTime: true) { rows { bucket { start end } reason count } total }
  workers(from: $from, to: $to, first: 1000) { totalCount edges { node { worker { id } hoursWorked taskHours utilisation } } }
  taskHours(from: $from, to: $to) { station { id staffing(from: $from, to: $to) } taskHours workers }
}`;

interface Answer {
  attendance: {
    rows: Array<{
      bucket: { start: string; end: string };
      department: { id: string };
      shift: { id: string };
      figures: { present: number; absent: number; attendanceRate: number | null; hoursWorked: number };
    }>;
    total: { present: number; absent: number; hoursWorked: number };
  };
  absences: { rows: Array<{ bucket: { start: string; end: string }; reason: string; count: number }>; total: number };
  workers: {
    totalCount: number;
    edges: Array<{
      node: { worker: { id: string } | null; hoursWorked: number; taskHours: number; utilisation: number | null };
    }>;
  };
  taskHours: Array<{ station: { id: string; staffing: number }; taskHours: number; workers: number }>;
}

const H_MS = 3_600_000;

export async function checkWorkforceReport(args: {
  api: GraphqlOptions;
  pool: pg.Pool;
  schema: string;
  range: ReportRange;
}) {
  const { api, pool, schema, range: r } = args;
  const t = new ReportTally({ metric: `workforce report (${r.zone})`, grain: r.grain, from: r.from, to: r.to });
  const lo = r.buckets[0].start;
  const hi = r.buckets.at(-1)!.end;
  const [present, absent, minutes, reasons, workerMinutes, task] = await Promise.all(
    ['attendance', 'absent_by_department', 'minutes_worked', 'absences', 'worker_minutes', 'operator_task_ms'].map(
      (f) => minuteFacts(pool, schema, f, lo, hi),
    ),
  );
  const a: Answer = await queryReport(api, `workforce ${r.grain} ${r.zone}`, QUERY, {
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
    grain: r.grain,
    tz: r.zone,
  });

  // Time × department × shift.
  const cells = new Map<string, { b: number; present: number; absent: number; minutes: number }>();
  const cell = (b: number, dept: string, shift: string) => {
    const k = `${b}\u0000${dept}\u0000${shift}`;
    return cells.get(k) ?? cells.set(k, { b, present: 0, absent: 0, minutes: 0 }).get(k)!;
  };
  for (const f of present) cell(bucketOf(r.buckets, f.bucket), f.station, f.errorCode ?? '').present += f.value;
  for (const f of absent) cell(bucketOf(r.buckets, f.bucket), f.station, f.errorCode ?? '').absent += f.value;
  for (const f of minutes) cell(bucketOf(r.buckets, f.bucket), f.station, f.errorCode ?? '').minutes += f.value;
  const exp = new Map<string, number | null>();
  const total = { present: 0, absent: 0, minutes: 0 };
  for (const [k, c] of cells) {
    const [, dept, shift] = k.split('\u0000');
    total.present += c.present;
    total.absent += c.absent;
    total.minutes += c.minutes;
    if (c.present === 0 && c.absent === 0 && c.minutes === 0) continue; // retracted to nothing: no row
    exp.set(key(r, c.b, dept, shift, 'present'), c.present);
    exp.set(key(r, c.b, dept, shift, 'absent'), c.absent);
    exp.set(
      key(r, c.b, dept, shift, 'attendanceRate'),
      c.present + c.absent > 0 ? c.present / (c.present + c.absent) : null,
    );
    exp.set(key(r, c.b, dept, shift, 'hoursWorked'), c.minutes / 60);
  }
  const act = new Map<string, number | null>();
  for (const row of a.attendance.rows) {
    const b = apiBucket(t, r, row.bucket);
    if (b < 0) continue;
    const at = (name: string) => key(r, b, row.department.id, row.shift.id, name);
    act.set(at('present'), row.figures.present);
    act.set(at('absent'), row.figures.absent);
    act.set(at('attendanceRate'), row.figures.attendanceRate);
    act.set(at('hoursWorked'), row.figures.hoursWorked);
  }
  t.compare(exp, act);
  t.one(key(r, null, 'attendance total present'), total.present, a.attendance.total.present);
  t.one(key(r, null, 'attendance total absent'), total.absent, a.attendance.total.absent);
  t.one(key(r, null, 'attendance total hoursWorked'), total.minutes / 60, a.attendance.total.hoursWorked);

  // Time × reason.
  const absExp = new Map<string, number | null>();
  let absTotal = 0;
  for (const f of reasons) {
    const k = key(r, bucketOf(r.buckets, f.bucket), f.station);
    absExp.set(k, (absExp.get(k) ?? 0) + f.value);
    absTotal += f.value;
  }
  const absAct = new Map<string, number | null>();
  for (const row of a.absences.rows) {
    const b = apiBucket(t, r, row.bucket);
    if (b >= 0) absAct.set(key(r, b, row.reason), row.count);
  }
  t.compare(absExp, absAct);
  t.one(key(r, null, 'absences total'), absTotal, a.absences.total);

  // Whole range [from, to): workers, task hours, staffing.
  const inRange = (f: { bucket: number }) => f.bucket >= r.from && f.bucket < r.to;
  const perWorker = new Map<string, { minutes: number; taskMs: number }>();
  const w = (id: string) => perWorker.get(id) ?? perWorker.set(id, { minutes: 0, taskMs: 0 }).get(id)!;
  for (const f of workerMinutes) if (inRange(f)) w(f.station).minutes += f.value;
  const perStation = new Map<string, { ms: number; byOperator: Map<string, number> }>();
  for (const f of task) {
    if (!inRange(f)) continue;
    w(f.errorCode ?? '').taskMs += f.value;
    const s = perStation.get(f.station) ?? perStation.set(f.station, { ms: 0, byOperator: new Map() }).get(f.station)!;
    s.ms += f.value;
    s.byOperator.set(f.errorCode ?? '', (s.byOperator.get(f.errorCode ?? '') ?? 0) + f.value);
  }
  const workers = [...perWorker].filter(([, v]) => v.minutes !== 0 || v.taskMs !== 0);
  t.one(key(r, null, 'workers totalCount'), workers.length, a.workers.totalCount);
  const wExp = new Map<string, number | null>();
  for (const [id, v] of workers) {
    const hours = v.minutes / 60;
    const taskHours = v.taskMs / H_MS;
    wExp.set(key(r, null, id, 'hoursWorked'), hours);
    wExp.set(key(r, null, id, 'taskHours'), taskHours);
    wExp.set(key(r, null, id, 'utilisation'), hours > 0 ? taskHours / hours : null);
  }
  const wAct = new Map<string, number | null>();
  for (const { node } of a.workers.edges) {
    const id = node.worker?.id ?? '(no pii:read)';
    wAct.set(key(r, null, id, 'hoursWorked'), node.hoursWorked);
    wAct.set(key(r, null, id, 'taskHours'), node.taskHours);
    wAct.set(key(r, null, id, 'utilisation'), node.utilisation);
  }
  t.compare(wExp, wAct, false);
  for (const row of a.taskHours) {
    const s = perStation.get(row.station.id);
    const staffed = s ? [...s.byOperator.values()].filter((ms) => ms > 0).length : 0;
    t.one(key(r, null, row.station.id, 'taskHours'), (s?.ms ?? 0) / H_MS, row.taskHours);
    t.one(key(r, null, row.station.id, 'workers'), staffed, row.workers);
    t.one(key(r, null, row.station.id, 'staffing'), staffed, row.station.staffing);
  }
  for (const id of perStation.keys())
    if (!a.taskHours.some((x) => x.station.id === id)) t.one(key(r, null, id, 'taskHours station'), 1, 0);
  return t;
}
