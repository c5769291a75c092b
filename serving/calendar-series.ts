import type { CellOp } from '../metrics/define-metric.ts';
import { MillraceError } from '../lib/errors.ts';
import { calendarBuckets, type CalendarBucket, type CalendarGrain, type ShiftDefinition } from './calendar.ts';
import { GRAIN_MS, type Freshness, type Grain, type MetricInfo, type Serving } from './types.ts';

/** A metric read over calendar buckets (time zone, shifts, weeks, months) or over the whole range. */
export interface CalendarQuery {
  metric: string;
  /** Epoch ms; rounded outward to whole minutes (the finest grain the layers keep). */
  from: number;
  to: number;
  /** Calendar grain, or null for one bucket spanning the whole range. */
  grain: CalendarGrain | null;
  /** IANA time zone of SHIFT/DAY/WEEK/MONTH buckets and labels. */
  zone: string;
  shifts: readonly ShiftDefinition[];
  /** Keep only points whose dimension value is in the list (an `in` filter per dimension). */
  where?: Readonly<Record<string, readonly string[]>>;
  /** Most buckets the answer may have. */
  maxBuckets: number;
}

export interface CalendarPoint {
  /** Index into `buckets`. */
  bucket: number;
  dims: Record<string, string>;
  /** The metric's state cells, merged with its monoid. */
  cells: number[];
}

export interface CalendarResult {
  buckets: CalendarBucket[];
  points: CalendarPoint[];
  freshness: Freshness;
}

/** One aligned piece of a bucket, read at one rollup grain. */
export interface RangeSegment {
  grain: Grain;
  from: number;
  to: number;
}

/** How two states of a metric combine, cell by cell (min/max metrics have one cell). */
export function cellOpsOfInfo(info: MetricInfo): (cell: number) => CellOp {
  const op: CellOp = info.aggregate === 'min' ? 'min' : info.aggregate === 'max' ? 'max' : 'sum';
  return () => op;
}

/**
 * Split [from, to) (rounded outward to minutes, as the serving layer rounds) into aligned segments:
 * minutes up to the first hour, hours up to the first day, whole days, then hours and minutes after
 * the last day. The sum over the segments equals the minute-grain sum, but a week costs ~7 day
 * buckets + < 48 hour + < 120 minute buckets instead of 10 080 minutes.
 */
export function coverRange(from: number, to: number): RangeSegment[] {
  const m = GRAIN_MS.minute;
  return split(Math.floor(from / m) * m, Math.ceil(to / m) * m, ['day', 'hour', 'minute']);
}

function split(from: number, to: number, grains: Grain[]): RangeSegment[] {
  if (from >= to) return [];
  const [grain, ...finer] = grains;
  if (finer.length === 0) return [{ grain, from, to }];
  const g = GRAIN_MS[grain];
  const start = Math.ceil(from / g) * g;
  const end = Math.floor(to / g) * g;
  if (start >= end) return split(from, to, finer);
  return [...split(from, start, finer), { grain, from: start, to: end }, ...split(end, to, finer)];
}

/** Number of buckets a segment reads. */
export function bucketsOf(s: RangeSegment): number {
  return (s.to - s.from) / GRAIN_MS[s.grain];
}

interface TaggedSegment extends RangeSegment {
  bucket: number;
}

/** Largest single serving read, in buckets of its grain. */
const MAX_RUN = 9_000;

/**
 * Reads a metric over calendar buckets: every bucket is covered by aligned day/hour/minute
 * segments of the rollups, the segments of one grain are read in as few `serving.series` calls as
 * possible, and each returned point is added to the bucket whose segment holds it. Exact: the
 * segments of a bucket tile it without overlap, and a point counts only when its whole rollup
 * bucket lies inside one segment.
 */
export async function readCalendarSeries(serving: Serving, q: CalendarQuery): Promise<CalendarResult> {
  const info = serving.metrics().find((m) => m.name === q.metric);
  if (!info) throw new MillraceError('BAD_USER_INPUT', `unknown metric ${JSON.stringify(q.metric)}`);
  for (const d of Object.keys(q.where ?? {})) {
    if (!info.dimensions.includes(d))
      throw new MillraceError('BAD_USER_INPUT', `metric ${info.name} has no dimension ${d}`);
  }
  const m = GRAIN_MS.minute;
  const from = Math.floor(q.from / m) * m;
  const to = Math.ceil(q.to / m) * m;
  const buckets: CalendarBucket[] = q.grain
    ? calendarBuckets({ from, to, grain: q.grain, zone: q.zone, shifts: q.shifts, maxBuckets: q.maxBuckets })
    : [{ start: from, end: to, label: 'range', shift: null }];

  const byGrain = new Map<Grain, TaggedSegment[]>();
  buckets.forEach((b, i) => {
    for (const s of coverRange(b.start, b.end)) {
      const list = byGrain.get(s.grain) ?? [];
      list.push({ ...s, bucket: i });
      byGrain.set(s.grain, list);
    }
  });

  // Equality filters the serving layer applies itself; `in` lists of several values are applied here.
  const eq: Record<string, string> = {};
  for (const [d, values] of Object.entries(q.where ?? {})) if (values.length === 1) eq[d] = values[0];
  const sets = Object.entries(q.where ?? {}).map(([d, values]) => [d, new Set(values)] as const);

  const reads: Array<
    Promise<{ grain: Grain; segments: TaggedSegment[]; result: Awaited<ReturnType<Serving['series']>> }>
  > = [];
  for (const [grain, segments] of byGrain) {
    segments.sort((a, b) => a.from - b.from);
    for (const run of runs(segments, GRAIN_MS[grain])) {
      reads.push(
        serving
          .series({ metric: info.name, grain, from: run[0].from, to: run[run.length - 1].to, where: eq })
          .then((result) => ({ grain, segments: run, result })),
      );
    }
  }
  const results = await Promise.all(reads);

  const op = cellOpsOfInfo(info);
  const acc = new Map<string, CalendarPoint>();
  let any: Freshness | null = null;
  const freshnesses: Array<{ f: Freshness; total: number }> = [];
  for (const { grain, segments, result } of results) {
    const g = GRAIN_MS[grain];
    let total = 0;
    for (const p of result.points) {
      if (sets.some(([d, set]) => !set.has(p.dims[d] ?? ''))) continue;
      const seg = findSegment(segments, p.bucket, g);
      if (!seg) continue;
      const key = `${seg.bucket}\u0000${info.dimensions.map((d) => p.dims[d] ?? '').join('\u0000')}`;
      const prev = acc.get(key);
      if (prev) for (let i = 0; i < p.cells.length; i++) prev.cells[i] = combine(op(i), prev.cells[i] ?? 0, p.cells[i]);
      else acc.set(key, { bucket: seg.bucket, dims: { ...p.dims }, cells: [...p.cells] });
      total += p.value;
    }
    freshnesses.push({ f: result.freshness, total });
    any ??= result.freshness;
  }
  const points = [...acc.values()].sort((a, b) => a.bucket - b.bucket);
  return { buckets, points, freshness: any ? mergeFreshness(freshnesses) : await emptyFreshness(serving, info.name) };
}

/** Consecutive segments grouped into reads: a gap of up to a day of buckets is cheaper to read through. */
function runs(segments: TaggedSegment[], g: number): TaggedSegment[][] {
  const out: TaggedSegment[][] = [];
  let run: TaggedSegment[] = [];
  for (const s of segments) {
    const start = run[0]?.from ?? s.from;
    const gap = run.length ? (s.from - run[run.length - 1].to) / g : 0;
    if (run.length && (gap > 60 || (s.to - start) / g > MAX_RUN)) {
      out.push(run);
      run = [];
    }
    run.push(s);
  }
  if (run.length) out.push(run);
  return out;
}

/** The segment holding the whole rollup bucket [b, b + g), by binary search; null in a gap. */
function findSegment(segments: TaggedSegment[], b: number, g: number): TaggedSegment | null {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segments[mid];
    if (b < s.from) hi = mid - 1;
    else if (b >= s.to) lo = mid + 1;
    else return b + g <= s.to ? s : null;
  }
  return null;
}

function combine(op: CellOp, a: number, b: number): number {
  return op === 'sum' ? a + b : op === 'min' ? Math.min(a, b) : Math.max(a, b);
}

/**
 * Freshness of an answer made of several reads: the oldest watermark and offsets (the answer is
 * at least that fresh), the largest lag, and the layers' shares weighted by each read's total.
 */
export function mergeFreshness(parts: ReadonlyArray<{ f: Freshness; total: number }>): Freshness {
  const [first] = parts;
  const min = (xs: number[][]) => xs[0].map((_, i) => Math.min(...xs.map((x) => x[i] ?? Infinity)));
  const minOrNull = (xs: Array<number | null>) => (xs.some((x) => x === null) ? null : Math.min(...(xs as number[])));
  const weight = parts.reduce((s, p) => s + p.total, 0);
  return {
    asOf: Math.max(...parts.map((p) => p.f.asOf)),
    batchOffsets: min(parts.map((p) => p.f.batchOffsets)),
    batchWatermarkTime: minOrNull(parts.map((p) => p.f.batchWatermarkTime)),
    batchRefreshedAt: minOrNull(parts.map((p) => p.f.batchRefreshedAt)),
    speedOffsets: min(parts.map((p) => p.f.speedOffsets)),
    speedLagEvents: Math.max(...parts.map((p) => p.f.speedLagEvents)),
    speedAppliedAt: minOrNull(parts.map((p) => p.f.speedAppliedAt)),
    batchShare:
      weight === 0 ? first.f.batchShare * 0 : parts.reduce((s, p) => s + p.f.batchShare * p.total, 0) / weight,
    speedShare: weight === 0 ? 0 : parts.reduce((s, p) => s + p.f.speedShare * p.total, 0) / weight,
  };
}

/** A freshness for an answer that needed no read (cannot happen with a non-empty range; kept total). */
async function emptyFreshness(serving: Serving, metric: string): Promise<Freshness> {
  const now = Date.now();
  const m = GRAIN_MS.minute;
  return (
    await serving.series({ metric, grain: 'minute', from: Math.floor(now / m) * m, to: Math.floor(now / m) * m + m })
  ).freshness;
}
