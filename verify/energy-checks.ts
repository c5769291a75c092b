import type pg from 'pg';
import type { GraphqlOptions } from './graphql.ts';
import {
  apiBucket,
  bucketOf,
  key,
  minuteFacts,
  queryReport,
  ReportTally,
  type LedgerStation,
  type ReportRange,
} from './report-tally.ts';

/**
 * Report 3 (energy) against the ledger: `energy` by time × machine and time × department (Wh, kWh,
 * parts completed, Wh per part), its total and line figures, `zoneTemperatures` by time × zone
 * (readings, mean), and the entities' `energy`/`temperature` over the range. Expected values are
 * summed here from the energy-csv, machining and heat-sensor facts with verify's own calendar.
 */
const QUERY = `query VerifyEnergy($from: DateTime!, $to: DateTime!, $grain: Grain!, $tz: String!) {
  byMachine: energy(from: $from, to: $to, grain: $grain, timeZone: $tz, groupBy: [TIME, MACHINE]) {
    rows { bucket { start end } machine { id } figures { wh kwh partsCompleted whPerPart } }
    total { wh partsCompleted } line { wh partsCompleted whPerPart }
  }
  byDepartment: energy(from: $from, to: $to, grain: $grain, timeZone: $tz, groupBy: [TIME, DEPARTMENT]) {
    rows { bucket { start end } department { id } figures { wh partsCompleted } }
  }
  heat: zoneTemperatures(from: $from, to: $to, grain: $grain, timeZone: $tz) { rows { bucket { start end } zone { id } figures { readings meanC } } }
  departments { id energy(from: $from, to: $to) { wh partsCompleted } }
  zones { id energy(from: $from, to: $to) { wh } temperature(from: $from, to: $to) { readings meanC } }
}`;

interface Figures {
  wh: number;
  kwh?: number;
  partsCompleted: number | null;
  whPerPart?: number | null;
}
interface Answer {
  byMachine: {
    rows: Array<{ bucket: { start: string; end: string }; machine: { id: string }; figures: Figures }>;
    total: Figures;
    line: Figures;
  };
  byDepartment: {
    rows: Array<{ bucket: { start: string; end: string }; department: { id: string }; figures: Figures }>;
  };
  heat: {
    rows: Array<{
      bucket: { start: string; end: string };
      zone: { id: string };
      figures: { readings: number; meanC: number | null };
    }>;
  };
  departments: Array<{ id: string; energy: Figures }>;
  zones: Array<{ id: string; energy: { wh: number }; temperature: { readings: number; meanC: number | null } }>;
}

/** Sums per (bucket index, name). */
class Sums {
  private readonly m = new Map<string, number>();
  add(bucket: number, name: string, v: number) {
    const k = `${bucket}\u0000${name}`;
    this.m.set(k, (this.m.get(k) ?? 0) + v);
  }
  get(bucket: number, name: string) {
    return this.m.get(`${bucket}\u0000${name}`) ?? 0;
  }
  keys() {
    return [...this.m.keys()].map((k) => {
      const [b, name] = k.split('\u0000');
      return [Number(b), name] as const;
    });
  }
}

export async function checkEnergyReport(args: {
  api: GraphqlOptions;
  pool: pg.Pool;
  schema: string;
  range: ReportRange;
  stations: LedgerStation[];
}) {
  const { api, pool, schema, range: r, stations } = args;
  const t = new ReportTally({ metric: `energy report (${r.zone})`, grain: r.grain, from: r.from, to: r.to });
  const lo = r.buckets[0].start;
  const hi = r.buckets.at(-1)!.end;
  const [energy, exits, count, sum] = await Promise.all(
    ['energy_wh', 'parts_exited', 'zone_temp_count', 'zone_temp_sum'].map((f) => minuteFacts(pool, schema, f, lo, hi)),
  );
  const stationOf = new Map(stations.flatMap((s) => s.machines.map((m) => [m, s] as const)));
  const withMachines = stations.filter((s) => s.machines.length > 0);
  const last = stations
    .filter((s) => s.flowIndex !== null)
    .sort((a, b) => a.flowIndex! - b.flowIndex!)
    .at(-1);

  const wh = new Sums(); // per machine
  const parts = new Sums(); // per station
  for (const f of energy) wh.add(bucketOf(r.buckets, f.bucket), f.station, f.value);
  for (const f of exits) parts.add(bucketOf(r.buckets, f.bucket), f.station, f.value);
  const n = r.buckets.length;
  const over = (fn: (b: number) => number) => Array.from({ length: n }, (_, b) => fn(b)).reduce((a, v) => a + v, 0);
  const partsOf = (b: number, list: LedgerStation[]) => list.reduce((a, s) => a + parts.get(b, s.id), 0);

  const a: Answer = await queryReport(api, `energy ${r.grain} ${r.zone}`, QUERY, {
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
    grain: r.grain,
    tz: r.zone,
  });

  // Time × machine: Wh, kWh, parts of the machine's station, Wh per part.
  const exp = new Map<string, number | null>();
  const act = new Map<string, number | null>();
  for (const [b, m] of wh.keys()) {
    const st = stationOf.get(m);
    const p = st ? parts.get(b, st.id) : 0;
    const v = wh.get(b, m);
    if (v === 0) continue; // a meter reading 0 Wh: a row or none, both are right
    exp.set(key(r, b, m, 'wh'), v);
    exp.set(key(r, b, m, 'kwh'), v / 1000);
    exp.set(key(r, b, m, 'partsCompleted'), p);
    exp.set(key(r, b, m, 'whPerPart'), p ? v / p : null);
  }
  for (const row of a.byMachine.rows) {
    const b = apiBucket(t, r, row.bucket);
    if (b < 0) continue;
    const m = row.machine.id;
    if (row.figures.wh === 0) continue;
    act.set(key(r, b, m, 'wh'), row.figures.wh);
    act.set(key(r, b, m, 'kwh'), row.figures.kwh!);
    act.set(key(r, b, m, 'partsCompleted'), row.figures.partsCompleted);
    act.set(key(r, b, m, 'whPerPart'), row.figures.whPerPart ?? null);
  }
  t.compare(exp, act);

  // Time × department: a department's Wh and the parts of its stations that have machines (rows of 0 Wh skipped, as above).
  const deptExp = new Map<string, number | null>();
  const deptAct = new Map<string, number | null>();
  for (const [b, m] of wh.keys()) {
    if (wh.get(b, m) === 0) continue;
    const dept = stationOf.get(m)?.department ?? '';
    deptExp.set(key(r, b, dept, 'wh'), (deptExp.get(key(r, b, dept, 'wh')) ?? 0) + wh.get(b, m));
    deptExp.set(
      key(r, b, dept, 'partsCompleted'),
      partsOf(
        b,
        withMachines.filter((s) => s.department === dept),
      ),
    );
  }
  for (const row of a.byDepartment.rows) {
    const b = apiBucket(t, r, row.bucket);
    if (b < 0 || row.figures.wh === 0) continue;
    deptAct.set(key(r, b, row.department.id, 'wh'), row.figures.wh);
    deptAct.set(key(r, b, row.department.id, 'partsCompleted'), row.figures.partsCompleted);
  }
  t.compare(deptExp, deptAct);

  // Total and line.
  const allWh = energy.reduce((s, f) => s + (bucketOf(r.buckets, f.bucket) >= 0 ? f.value : 0), 0);
  const lineParts = last ? over((b) => parts.get(b, last.id)) : 0;
  t.one(key(r, null, 'total wh'), allWh, a.byMachine.total.wh);
  t.one(
    key(r, null, 'total partsCompleted'),
    over((b) => partsOf(b, withMachines)),
    a.byMachine.total.partsCompleted,
  );
  t.one(key(r, null, 'line wh'), allWh, a.byMachine.line.wh);
  t.one(key(r, null, 'line partsCompleted'), lineParts, a.byMachine.line.partsCompleted);
  t.one(key(r, null, 'line whPerPart'), lineParts ? allWh / lineParts : null, a.byMachine.line.whPerPart ?? null);

  // Entities over [from, to): departments' and zones' energy, zones' temperature.
  const inRange = (f: { bucket: number }) => f.bucket >= r.from && f.bucket < r.to;
  const whWhere = (pred: (s: LedgerStation | undefined) => boolean) =>
    energy.filter((f) => inRange(f) && pred(stationOf.get(f.station))).reduce((s, f) => s + f.value, 0);
  const exitsWhere = (list: LedgerStation[]) =>
    exits.filter((f) => inRange(f) && list.some((s) => s.id === f.station)).reduce((s, f) => s + f.value, 0);
  for (const d of a.departments) {
    t.one(
      key(r, null, d.id, 'department wh'),
      whWhere((s) => s?.department === d.id),
      d.energy.wh,
    );
    t.one(
      key(r, null, d.id, 'department partsCompleted'),
      exitsWhere(withMachines.filter((s) => s.department === d.id)),
      d.energy.partsCompleted,
    );
  }
  const zoneSum = (facts: typeof count, zone: string) =>
    facts.filter((f) => inRange(f) && f.station === zone).reduce((s, f) => s + f.value, 0);
  for (const z of a.zones) {
    t.one(
      key(r, null, z.id, 'zone wh'),
      whWhere((s) => s?.zone === z.id),
      z.energy.wh,
    );
    const c = zoneSum(count, z.id);
    t.one(key(r, null, z.id, 'zone readings'), c, z.temperature.readings);
    t.one(key(r, null, z.id, 'zone meanC'), c > 0 ? zoneSum(sum, z.id) / c / 100 : null, z.temperature.meanC);
  }

  // Time × zone temperatures.
  const heatExp = new Map<string, number | null>();
  const heatAct = new Map<string, number | null>();
  const readings = new Sums();
  const sums = new Sums();
  for (const f of count) readings.add(bucketOf(r.buckets, f.bucket), f.station, f.value);
  for (const f of sum) sums.add(bucketOf(r.buckets, f.bucket), f.station, f.value);
  for (const [b, z] of readings.keys()) {
    if (b < 0) continue;
    const c = readings.get(b, z);
    heatExp.set(key(r, b, z, 'readings'), c);
    heatExp.set(key(r, b, z, 'meanC'), c > 0 ? sums.get(b, z) / c / 100 : null);
  }
  for (const row of a.heat.rows) {
    const b = apiBucket(t, r, row.bucket);
    if (b < 0) continue;
    heatAct.set(key(r, b, row.zone.id, 'readings'), row.figures.readings);
    heatAct.set(key(r, b, row.zone.id, 'meanC'), row.figures.meanC);
  }
  t.compare(heatExp, heatAct);
  return t;
}
