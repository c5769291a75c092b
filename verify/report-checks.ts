import type pg from 'pg';
import { readFacts, type FactPoint } from '../simulator/ledger.ts';
import type { Rng } from '../simulator/prng.ts';
import type { Mismatch } from './compare.ts';
import type { GraphqlOptions } from './graphql.ts';
import { localBuckets, type LocalBucket, type LocalShift } from './local-calendar.ts';
import { countByBucket, expectedLine, sum, type FloorStation } from './report-expected.ts';
import {
  FLOOR_QUERY,
  MTTR_QUERY,
  postQuery,
  REPORTS_QUERY,
  type ApiBucket,
  type Floor,
  type Mttr,
  type Reports,
} from './report-queries.ts';

/** The grains the reports are checked at: HOUR (seals first on a live run), then the calendar's. */
export const REPORT_GRAINS = ['HOUR', 'SHIFT', 'DAY'] as const;
type ReportGrain = (typeof REPORT_GRAINS)[number];
/** Longest range per grain, in buckets. */
const MAX_SPAN: Readonly<Record<ReportGrain, number>> = { HOUR: 12, SHIFT: 9, DAY: 7 };
const HOUR = 3_600_000;
const MINUTE = 60_000;
/** A bucket width larger than any instant: readFacts then sums everything into one point per station. */
const ALL = 2 ** 52;
const REWORK_STATION = 'REW';
const MACHINING = ['parts_entered', 'parts_exited', 'station_errors', 'cycle_time_count', 'cycle_time_sum'];
const iso = (ms: number) => new Date(ms).toISOString();

export interface ReportCheckArgs {
  pool: pg.Pool;
  schema: string;
  api: GraphqlOptions;
  rng: Rng;
  ranges: number;
  /** Machining facts are complete over [earliest, horizon). */
  earliest: number;
  horizon: number;
  /** Orders seal (null: none yet) and first minute of order facts. */
  ordersSeal: number | null;
  /** Zones checked besides the factory's default. */
  zones: readonly string[];
  log: (line: string) => void;
}

/**
 * Reports against the ledger: for every zone (the factory's default, then `zones`) and calendar
 * grain, random ranges of whole local buckets inside the sealed span; the production rows and line,
 * the errors, the quality rows and line, and MTTR recomputed from ledger facts and compared exactly.
 * Buckets themselves (start, end, label) are compared too: that is where a daylight-saving day shows.
 */
export async function runReportChecks(args: ReportCheckArgs): Promise<{ checked: number; mismatches: Mismatch[] }> {
  const floor = await postQuery<Floor>(args.api, 'floor', FLOOR_QUERY, {
    from: iso(args.earliest),
    to: iso(args.earliest + HOUR),
  });
  const shifts: LocalShift[] = floor.shifts.map((s) => ({
    id: s.id,
    startMinute: Number(s.start.slice(0, 2)) * 60 + Number(s.start.slice(3, 5)),
  }));
  const zones = [...new Set([floor.production.timeZone, ...args.zones])];
  const out = { checked: 0, mismatches: [] as Mismatch[] };
  const firstOrder = await args.pool.query(
    `SELECT min(minute) AS m FROM ${args.schema}.facts WHERE fact IN ('repairs_completed', 'repair_duration_ms')`,
  );
  const ordersFrom = firstOrder.rows[0].m === null ? null : Number(firstOrder.rows[0].m);
  for (const zone of zones) {
    for (const grain of REPORT_GRAINS) {
      const candidates = (lo: number, hi: number) =>
        localBuckets(zone, grain, shifts, lo, hi).filter((b) => b.end <= hi);
      const pick = (lo: number, hi: number): [number, number] | null => {
        const all = candidates(lo, hi);
        if (all.length === 0) return null;
        const s = args.rng.int(0, all.length - 1);
        const e = s + args.rng.int(1, Math.min(all.length - s, MAX_SPAN[grain])) - 1;
        return [all[s].start, all[e].end];
      };
      // A bucket a daylight-saving change made shorter or longer is always checked, then random ranges.
      const odd = candidates(args.earliest, args.horizon).find(
        (b) => b.end - b.start !== nominalLength(grain, shifts, b),
      );
      const ranges: Array<[number, number] | null> = odd ? [[odd.start, odd.end]] : [];
      for (let i = 0; i < args.ranges; i++) ranges.push(pick(args.earliest, args.horizon));
      for (const r of ranges) {
        if (!r) {
          args.log(`verify: reports ${grain} ${zone}: skipped, no whole bucket sealed yet`);
          break;
        }
        const n = await checkReports(args, { zone, grain, shifts, floor: floor.stations, from: r[0], to: r[1] }, out);
        args.log(
          `verify: reports ${grain} ${zone} [${iso(r[0])}, ${iso(r[1])}): ${n.checked} checked, ${n.mismatches} mismatches`,
        );
      }
      if (args.ordersSeal !== null && ordersFrom !== null && args.ordersSeal > ordersFrom) {
        for (let i = 0; i < Math.max(1, Math.ceil(args.ranges / 2)); i++) {
          const r = pick(ordersFrom, args.ordersSeal);
          if (!r) break;
          const n = await checkMttr(args, { zone, grain, shifts, from: r[0], to: r[1] }, out);
          args.log(
            `verify: mttr ${grain} ${zone} [${iso(r[0])}, ${iso(r[1])}): ${n.checked} checked, ${n.mismatches} mismatches`,
          );
        }
      }
    }
  }
  return out;
}

/** A bucket's length on a day without a clock change. */
function nominalLength(grain: ReportGrain, shifts: readonly LocalShift[], b: LocalBucket): number {
  if (grain === 'HOUR') return HOUR;
  if (grain === 'DAY') return 24 * HOUR;
  const sorted = [...shifts].sort((x, y) => x.startMinute - y.startMinute);
  const i = sorted.findIndex((s) => b.label.endsWith(` ${s.id}`));
  const next = sorted[(i + 1) % sorted.length];
  return ((next.startMinute - sorted[i].startMinute + 1440) % 1440 || 1440) * MINUTE;
}

interface Range {
  zone: string;
  grain: ReportGrain;
  shifts: LocalShift[];
  from: number;
  to: number;
  /** The floor as the API serves it (flow order, ideal cycle times). */
  floor?: FloorStation[];
}

/** Records comparisons into `out`; returns this range's share. */
function comparer(out: { checked: number; mismatches: Mismatch[] }, r: Range, metric: string) {
  const start = { checked: out.checked, mismatches: out.mismatches.length };
  const where = { metric, grain: `${r.grain} ${r.zone}`, from: iso(r.from), to: iso(r.to) };
  return {
    eq(key: string, expected: number | string | null, actual: number | string | null | undefined) {
      out.checked++;
      const got = actual === undefined ? null : actual;
      if (expected !== got) out.mismatches.push({ ...where, key, expected, actual: got });
    },
    done: () => ({ checked: out.checked - start.checked, mismatches: out.mismatches.length - start.mismatches }),
  };
}

/** The served buckets must be exactly verify's own: same starts, ends and local labels. */
function checkBuckets(
  c: ReturnType<typeof comparer>,
  what: string,
  expected: readonly LocalBucket[],
  rows: ReadonlyArray<{ bucket: ApiBucket }>,
) {
  const seen = new Map<string, ApiBucket>();
  for (const row of rows) seen.set(row.bucket.start, row.bucket);
  c.eq(`${what} buckets`, expected.length, seen.size);
  for (const b of expected) {
    const got = seen.get(iso(b.start));
    c.eq(`${what} ${iso(b.start)} end`, iso(b.end), got?.end ?? null);
    c.eq(`${what} ${iso(b.start)} label`, b.label, got?.label ?? null);
  }
}

async function checkReports(args: ReportCheckArgs, r: Range, out: { checked: number; mismatches: Mismatch[] }) {
  const buckets = localBuckets(r.zone, r.grain, r.shifts, r.from, r.to);
  const hourFrom = Math.ceil(r.from / HOUR) * HOUR;
  const hourTo = Math.floor(r.to / HOUR) * HOUR;
  const [api, facts, before, hourly] = await Promise.all([
    postQuery<Reports>(args.api, `reports ${r.grain} ${r.zone}`, REPORTS_QUERY, {
      from: iso(r.from),
      to: iso(r.to),
      grain: r.grain,
      tz: r.zone,
    }),
    readFacts(args.pool, { schema: args.schema, fact: MACHINING, from: r.from, to: r.to, grainMs: MINUTE }),
    readFacts(args.pool, {
      schema: args.schema,
      fact: ['parts_entered', 'parts_exited'],
      from: 0,
      to: r.from,
      grainMs: ALL,
    }),
    hourTo > hourFrom
      ? readFacts(args.pool, { schema: args.schema, fact: 'parts_exited', from: hourFrom, to: hourTo, grainMs: HOUR })
      : Promise.resolve([] as FactPoint[]),
  ]);
  const floor = r.floor ?? [];
  const counts = countByBucket({ buckets, stations: floor.map((s) => s.id), facts, before });
  const active = new Map<string, number>();
  for (const f of hourly) if (f.value > 0) active.set(f.station, (active.get(f.station) ?? 0) + 1);
  const line = expectedLine({
    counts,
    floor,
    hours: Math.max(0, (hourTo - hourFrom) / HOUR),
    activeHours: active,
    rangeHours: (r.to - r.from) / HOUR,
  });

  // Production rows and line.
  const p = comparer(out, r, 'production');
  checkBuckets(p, 'production', buckets, api.production.rows);
  p.eq('production timeZone', r.zone, api.production.timeZone);
  const served = new Map(api.production.rows.map((row) => [`${row.bucket.start} ${row.station.id}`, row.figures]));
  p.eq('production rows', counts.perStation.size * buckets.length, api.production.rows.length);
  for (const [station, list] of counts.perStation) {
    list.forEach((e, i) => {
      const k = `${iso(buckets[i].start)} ${station}`;
      const a = served.get(k);
      p.eq(`${k} partsStarted`, e.entered, a?.partsStarted);
      p.eq(`${k} partsCompleted`, e.exited, a?.partsCompleted);
      p.eq(`${k} errors`, e.errors, a?.errors);
      p.eq(`${k} errorRate`, e.exited > 0 ? e.errors / e.exited : null, a?.errorRate);
      p.eq(`${k} cycleTime.count`, e.ctCount, a?.cycleTime.count);
      p.eq(`${k} cycleTime.sum`, e.ctSum, a?.cycleTime.sum);
      p.eq(`${k} wip`, e.wip, a?.wip);
    });
  }
  const l = api.production.line;
  p.eq('line partsStarted', line.partsStarted, l.partsStarted);
  p.eq('line partsCompleted', line.partsCompleted, l.partsCompleted);
  p.eq('line throughputPerHour', line.throughputPerHour, l.throughputPerHour);
  p.eq('line wip', line.wip, l.wip);
  for (const k of ['availability', 'performance', 'quality', 'oee'] as const)
    p.eq(`line oee.${k}`, line.oee[k], l.oee[k]);

  // Errors by bucket, station and code.
  const e = comparer(out, r, 'stationErrors');
  const servedErrors = new Map<string, number>();
  for (const row of api.stationErrors.rows) {
    const k = `${row.bucket.start} ${row.station.id} ${row.code}`;
    servedErrors.set(k, (servedErrors.get(k) ?? 0) + row.count);
  }
  for (const k of new Set([...counts.errors.keys(), ...servedErrors.keys()]))
    e.eq(k, counts.errors.get(k) ?? 0, servedErrors.get(k) ?? 0);
  e.eq(
    'total',
    [...counts.errors.values()].reduce((a, b) => a + b, 0),
    api.stationErrors.total,
  );

  // Quality rows and line.
  const q = comparer(out, r, 'quality');
  checkBuckets(q, 'quality', buckets, api.quality.rows);
  const servedQ = new Map(api.quality.rows.map((row) => [`${row.bucket.start} ${row.station.id}`, row.figures]));
  q.eq('quality rows', counts.perStation.size * buckets.length, api.quality.rows.length);
  for (const [station, list] of counts.perStation) {
    list.forEach((c, i) => {
      const k = `${iso(buckets[i].start)} ${station}`;
      const a = servedQ.get(k);
      q.eq(`${k} inspected`, c.exited, a?.inspected);
      q.eq(`${k} failed`, c.errors, a?.failed);
      q.eq(`${k} passed`, c.exited - c.errors, a?.passed);
      q.eq(`${k} yield`, c.exited > 0 ? (c.exited - c.errors) / c.exited : null, a?.yield);
    });
  }
  const rew = sum(counts.perStation.get(REWORK_STATION));
  q.eq('line firstPassYield', line.firstPassYield, api.quality.line.firstPassYield);
  q.eq('line reworkDone', rew.exited, api.quality.line.reworkDone);
  q.eq('line reworkPending', rew.wip, api.quality.line.reworkPending);
  const a = p.done();
  const b = e.done();
  const c = q.done();
  return { checked: a.checked + b.checked + c.checked, mismatches: a.mismatches + b.mismatches + c.mismatches };
}

async function checkMttr(args: ReportCheckArgs, r: Range, out: { checked: number; mismatches: Mismatch[] }) {
  const buckets = localBuckets(r.zone, r.grain, r.shifts, r.from, r.to);
  const [api, facts] = await Promise.all([
    postQuery<Mttr>(args.api, `mttr ${r.grain} ${r.zone}`, MTTR_QUERY, {
      from: iso(r.from),
      to: iso(r.to),
      grain: r.grain,
      tz: r.zone,
    }),
    readFacts(args.pool, {
      schema: args.schema,
      fact: ['repairs_completed', 'repair_duration_ms'],
      from: r.from,
      to: r.to,
      grainMs: MINUTE,
    }),
  ]);
  const m = comparer(out, r, 'mttr');
  // The ledger keeps an order fact's severity in its station column.
  const expected = new Map<string, { n: number; ms: number }>();
  let n = 0;
  let total = 0;
  for (const f of facts) {
    const b = buckets.find((x) => f.bucket >= x.start && f.bucket < x.end);
    if (!b) continue;
    const k = `${iso(b.start)} ${Number(f.station)}`;
    const cell = expected.get(k) ?? expected.set(k, { n: 0, ms: 0 }).get(k)!;
    if (f.fact === 'repairs_completed') {
      cell.n += f.value;
      n += f.value;
    } else {
      cell.ms += f.value;
      total += f.value;
    }
  }
  const served = new Map(api.mttr.rows.map((row) => [`${row.bucket.start} ${row.severity}`, row]));
  for (const k of new Set([...expected.keys(), ...served.keys()])) {
    const e = expected.get(k) ?? { n: 0, ms: 0 };
    m.eq(`${k} repairsCompleted`, e.n, served.get(k)?.repairsCompleted ?? 0);
    m.eq(`${k} mttrMinutes`, e.n > 0 ? e.ms / e.n / MINUTE : null, served.get(k)?.mttrMinutes ?? null);
  }
  m.eq('repairsCompleted', n, api.mttr.repairsCompleted);
  m.eq('mttrMinutes', n > 0 ? total / n / MINUTE : null, api.mttr.mttrMinutes);
  return m.done();
}
