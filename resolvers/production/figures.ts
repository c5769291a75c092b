import type { CalendarBucket } from '../../serving/calendar.ts';
import { mergeFreshness } from '../../serving/calendar-series.ts';
import type { Freshness } from '../../serving/types.ts';
import type { ResolverContext } from '../context.ts';
import type { Directory, StationRecord } from '../shared/directory.ts';
import type { ReportWindow } from '../shared/window.ts';
import { histogramFromCells as histogram } from '../histogram.ts';

/** Station operations in one bucket. */
export interface StationCounts {
  entered: number;
  exited: number;
  errors: number;
  /** cycle_time histogram cells: [count, sum, n per bound…, n above]. */
  cycle: number[];
}

/** Every station's counts per bucket, and work in progress at each bucket's end. */
export interface ProductionRead {
  buckets: CalendarBucket[];
  /** station → one entry per bucket. */
  counts: Map<string, StationCounts[]>;
  /** station → WIP at each bucket's end. */
  wip: Map<string, number[]>;
  freshness: Freshness;
}

export const PRODUCTION_METRICS = ['parts_entered', 'parts_exited', 'station_errors', 'cycle_time'] as const;

const emptyCounts = (cells: number): StationCounts => ({
  entered: 0,
  exited: 0,
  errors: 0,
  cycle: new Array(cells).fill(0),
});

/** Cells of the cycle-time histogram (bounds + 3), from the metric catalogue. */
export function cycleCells(ctx: ResolverContext): number {
  const info = ctx.serving.metrics().find((m) => m.name === 'cycle_time');
  return (info?.bounds?.length ?? 0) + 3;
}

/**
 * Reads the four production metrics for every station over the window (`grain` null: one bucket
 * for the whole range) and the work in progress at every bucket's end: entered − exited since the
 * history start, i.e. the counts before the first bucket plus the running sum of the buckets.
 */
export async function readProduction(
  ctx: ResolverContext,
  dir: Directory,
  w: { from: number; to: number; grain: ReportWindow['grain'] | null; zone: string },
): Promise<ProductionRead> {
  const key = { from: w.from, to: w.to, grain: w.grain, zone: w.zone };
  const [entered, exited, errors, cycle] = await Promise.all(
    PRODUCTION_METRICS.map((metric) => ctx.loaders.read({ metric, ...key })),
  );
  const buckets = entered.buckets;
  const start = buckets[0].start;
  const before =
    start > ctx.calendar.historyStart
      ? await Promise.all(
          ['parts_entered', 'parts_exited'].map((metric) =>
            ctx.loaders.read({ metric, from: ctx.calendar.historyStart, to: start, grain: null, zone: w.zone }),
          ),
        )
      : null;

  const cells = cycleCells(ctx);
  const counts = new Map<string, StationCounts[]>();
  const row = (station: string, b: number) => {
    let list = counts.get(station);
    if (!list) counts.set(station, (list = buckets.map(() => emptyCounts(cells))));
    return list[b];
  };
  for (const s of dir.stations) row(s.id, 0);
  for (const p of entered.points) row(p.dims.station, p.bucket).entered += p.cells[0];
  for (const p of exited.points) row(p.dims.station, p.bucket).exited += p.cells[0];
  for (const p of errors.points) row(p.dims.station, p.bucket).errors += p.cells[0];
  for (const p of cycle.points) {
    const c = row(p.dims.station, p.bucket).cycle;
    for (let i = 0; i < c.length; i++) c[i] += p.cells[i] ?? 0;
  }

  const base = new Map<string, number>();
  if (before) {
    for (const p of before[0].points) base.set(p.dims.station, (base.get(p.dims.station) ?? 0) + p.cells[0]);
    for (const p of before[1].points) base.set(p.dims.station, (base.get(p.dims.station) ?? 0) - p.cells[0]);
  }
  const wip = new Map<string, number[]>();
  for (const [station, list] of counts) {
    let running = base.get(station) ?? 0;
    wip.set(
      station,
      list.map((c) => (running += c.entered - c.exited)),
    );
  }
  const reads = [entered, exited, errors, cycle, ...(before ?? [])];
  const freshness = mergeFreshness(
    reads.map((r) => ({ f: r.freshness, total: r.points.reduce((s, p) => s + p.cells[0], 0) })),
  );
  return { buckets, counts, wip, freshness };
}

/** API figures of summed counts over `hours` of time, with the WIP given. */
export function toFigures(c: StationCounts, hours: number, wip: number, bounds: readonly number[]) {
  return {
    partsStarted: c.entered,
    partsCompleted: c.exited,
    throughputPerHour: hours > 0 ? c.exited / hours : 0,
    errors: c.errors,
    errorRate: c.exited > 0 ? c.errors / c.exited : null,
    cycleTime: histogram(bounds, c.cycle),
    wip,
  };
}

export function addCounts(into: StationCounts, c: StationCounts): StationCounts {
  into.entered += c.entered;
  into.exited += c.exited;
  into.errors += c.errors;
  for (let i = 0; i < into.cycle.length; i++) into.cycle[i] += c.cycle[i] ?? 0;
  return into;
}

export { emptyCounts };

/** OEE parts of one station over a range: quality and performance from its counts, availability from its hours. */
export interface OeeParts {
  availability: number | null;
  performance: number | null;
  quality: number | null;
  oee: number | null;
}

export function oeeOf(parts: Omit<OeeParts, 'oee'>): OeeParts {
  const { availability, performance, quality } = parts;
  const oee =
    availability === null || performance === null || quality === null ? null : availability * performance * quality;
  return { availability, performance, quality, oee };
}

/** Exits without an error / exits; null when nothing exited. */
export function qualityOf(c: StationCounts): number | null {
  return c.exited > 0 ? (c.exited - c.errors) / c.exited : null;
}

/** Ideal cycle time / mean cycle time, capped at 1; null without an ideal or without exits. */
export function performanceOf(s: StationRecord, c: StationCounts): number | null {
  const count = c.cycle[0] ?? 0;
  const sum = c.cycle[1] ?? 0;
  if (s.idealCycleSec === null || count === 0 || sum <= 0) return null;
  return Math.min(1, (s.idealCycleSec * 1000) / (sum / count));
}

/** Whole hours of a range and, per station, those in which it completed at least one part. */
export interface ActiveHours {
  hours: number;
  active: Map<string, number>;
  freshness: Freshness;
}

/**
 * Availability per station: the share of the range's whole hours in which the station completed
 * at least one part (null when the range holds no whole hour). One hour-grain read for all stations.
 */
export async function activeHours(ctx: ResolverContext, from: number, to: number, zone: string): Promise<ActiveHours> {
  const H = 3_600_000;
  const start = Math.ceil(from / H) * H;
  const end = Math.floor(to / H) * H;
  const active = new Map<string, number>();
  if (end <= start) {
    const r = await ctx.loaders.read({ metric: 'parts_exited', from, to, grain: null, zone });
    return { hours: 0, active, freshness: r.freshness };
  }
  const r = await ctx.loaders.read({
    metric: 'parts_exited',
    from: start,
    to: end,
    grain: 'hour',
    zone,
    maxBuckets: 1_000_000,
  });
  for (const p of r.points) if (p.cells[0] > 0) active.set(p.dims.station, (active.get(p.dims.station) ?? 0) + 1);
  return { hours: (end - start) / H, active, freshness: r.freshness };
}

/** A station's availability: active hours / whole hours; null without a whole hour. */
export function availabilityFor(a: ActiveHours, station: string): number | null {
  return a.hours > 0 ? (a.active.get(station) ?? 0) / a.hours : null;
}
