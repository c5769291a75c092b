import type { CalendarBucket, CalendarGrain } from '../../serving/calendar.ts';
import { mergeFreshness } from '../../serving/calendar-series.ts';
import type { Freshness } from '../../serving/types.ts';
import type { QualityGroup, QualityOrderField } from '../generated/quality.ts';
import type { ResolverContext } from '../context.ts';
import type { Directory, StationRecord } from '../shared/directory.ts';
import { checkTop, parseWindow, selectStations, toBucket, toFreshness } from '../shared/window.ts';
import { iso } from '../validate-args.ts';

/**
 * The rework station of the line: parts that failed test go there and come back (MYCPU.md floor).
 * The floor map marks it only by having no place in the flow, so it is named here.
 */
export const REWORK_STATION = 'REW';

/** Inspections of one station in one bucket: every exit is one, an exit with an error code failed. */
export interface QualityCounts {
  inspected: number;
  failed: number;
}

/** Every station's inspections per bucket, and the rework stock at the range's end. */
export interface QualityRead {
  buckets: CalendarBucket[];
  /** station → one entry per bucket. */
  counts: Map<string, QualityCounts[]>;
  /** Parts at the rework station (entered − exited since the history start) at the range's end; 0 when not read. */
  reworkPending: number;
  freshness: Freshness;
}

const empty = (): QualityCounts => ({ inspected: 0, failed: 0 });

/**
 * Reads exits and errors of every station over the window (`grain` null: one bucket for the whole
 * range) and the rework station's stock. The reads are the keys production's report and work in
 * progress use (entries, exits, errors per bucket; entries and exits from the history start to the
 * first bucket), so a query asking both shares them: a constant number of reads, whatever the
 * number of stations.
 */
export async function readQuality(
  ctx: ResolverContext,
  dir: Directory,
  w: { from: number; to: number; grain: CalendarGrain | null; zone: string },
  /** Whether to read the rework stock (station figures do not need it). */
  stock = true,
): Promise<QualityRead> {
  const key = { from: w.from, to: w.to, grain: w.grain, zone: w.zone };
  const [exited, errors, entered] = await Promise.all(
    ['parts_exited', 'station_errors', ...(stock ? ['parts_entered'] : [])].map((metric) =>
      ctx.loaders.read({ metric, ...key }),
    ),
  );
  const buckets = exited.buckets;
  const start = buckets[0].start;
  const before =
    stock && start > ctx.calendar.historyStart
      ? await Promise.all(
          ['parts_entered', 'parts_exited'].map((metric) =>
            ctx.loaders.read({ metric, from: ctx.calendar.historyStart, to: start, grain: null, zone: w.zone }),
          ),
        )
      : [];

  const counts = new Map<string, QualityCounts[]>();
  const row = (station: string, b: number) => {
    let list = counts.get(station);
    if (!list) counts.set(station, (list = buckets.map(empty)));
    return list[b];
  };
  for (const s of dir.stations) row(s.id, 0);
  for (const p of exited.points) row(p.dims.station, p.bucket).inspected += p.cells[0];
  for (const p of errors.points) row(p.dims.station, p.bucket).failed += p.cells[0];

  const rew = (r: { points: Array<{ dims: Record<string, string>; cells: number[] }> } | undefined) =>
    (r?.points ?? []).filter((p) => p.dims.station === REWORK_STATION).reduce((a, p) => a + p.cells[0], 0);
  // Buckets tile [first start, last end), so their sum is the range's: the stock at the last end.
  const reworkPending = rew(before[0]) - rew(before[1]) + rew(entered) - rew(exited);
  const reads = [exited, errors, ...(entered ? [entered] : []), ...before];
  const freshness = mergeFreshness(
    reads.map((r) => ({ f: r.freshness, total: r.points.reduce((s, p) => s + p.cells[0], 0) })),
  );
  return { buckets, counts, reworkPending, freshness };
}

/** API figures of summed inspections. */
export function toQualityFigures(c: QualityCounts) {
  const passed = c.inspected - c.failed;
  return { inspected: c.inspected, passed, failed: c.failed, yield: c.inspected > 0 ? passed / c.inspected : null };
}

export function sumCounts(list: readonly QualityCounts[] | undefined): QualityCounts {
  const out = empty();
  for (const c of list ?? []) {
    out.inspected += c.inspected;
    out.failed += c.failed;
  }
  return out;
}

/** One station's figures over a window (the whole range), from the request's shared reads. */
export async function stationQuality(
  ctx: ResolverContext,
  ids: readonly string[],
  args: { from: string; to: string },
): Promise<QualityCounts> {
  const w = parseWindow(args, ctx, 'hour');
  const dir = await ctx.loaders.directory();
  const read = await readQuality(ctx, dir, { ...w, grain: null }, false);
  return sumCounts(ids.flatMap((id) => read.counts.get(id) ?? []));
}

/**
 * The line: first-pass yield = the product over the flow stations of passed / inspected (null when
 * one inspected nothing); rework done = exits of the rework station; rework pending = its stock.
 */
export function qualityLine(dir: Directory, read: QualityRead) {
  let fpy: number | null = dir.flow.length ? 1 : null;
  for (const s of dir.flow) {
    const f = toQualityFigures(sumCounts(read.counts.get(s.id)));
    fpy = fpy === null || f.yield === null ? null : fpy * f.yield;
  }
  return {
    firstPassYield: fpy,
    reworkDone: sumCounts(read.counts.get(REWORK_STATION)).inspected,
    reworkPending: read.reworkPending,
  };
}

interface RowKey {
  bucket: number | null;
  station: string | null;
  department: string | null;
}

/** Report 4: inspections grouped by time, station and/or department, with `in` filters, order and top-N. */
export async function qualityReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: CalendarGrain | null;
    timeZone?: string | null;
    stations?: string[] | null;
    departments?: string[] | null;
    groupBy?: QualityGroup[] | null;
    orderBy?: { field: QualityOrderField; direction?: 'ASC' | 'DESC' | null } | null;
    top?: number | null;
  },
) {
  const w = parseWindow(args, ctx, 'day');
  const top = checkTop(args.top);
  const dir = await ctx.loaders.directory();
  const selected = new Set(selectStations(dir, args));
  const groupBy = new Set(args.groupBy ?? ['STATION']);
  const byTime = groupBy.has('TIME');
  const read = await readQuality(ctx, dir, { ...w, grain: byTime ? w.grain : null });
  const rows = new Map<string, { key: RowKey; counts: QualityCounts }>();
  const total = empty();
  for (const [station, list] of read.counts) {
    if (!selected.has(station)) continue;
    list.forEach((c, i) => {
      const key: RowKey = {
        bucket: byTime ? i : null,
        station: groupBy.has('STATION') ? station : null,
        department: groupBy.has('DEPARTMENT') ? (dir.station(station)?.department ?? '') : null,
      };
      const k = JSON.stringify(key);
      let row = rows.get(k);
      if (!row) rows.set(k, (row = { key, counts: empty() }));
      row.counts.inspected += c.inspected;
      row.counts.failed += c.failed;
      total.inspected += c.inspected;
      total.failed += c.failed;
    });
  }
  let out = [...rows.values()].map((r) => ({ key: r.key, figures: toQualityFigures(r.counts) }));
  const flowPos = (id: string | null) => (id === null ? 0 : (dir.station(id)?.flowIndex ?? 1000));
  out.sort(
    (x, y) =>
      (x.key.bucket ?? 0) - (y.key.bucket ?? 0) ||
      flowPos(x.key.station) - flowPos(y.key.station) ||
      String(x.key.station).localeCompare(String(y.key.station)) ||
      String(x.key.department).localeCompare(String(y.key.department)),
  );
  if (args.orderBy) {
    const field = args.orderBy.field;
    const value = (r: (typeof out)[number]): number =>
      field === 'TIME'
        ? (r.key.bucket ?? 0)
        : field === 'INSPECTED'
          ? r.figures.inspected
          : field === 'FAILED'
            ? r.figures.failed
            : (r.figures.yield ?? -1);
    const sign = args.orderBy.direction === 'ASC' ? 1 : -1;
    out = out
      .map((r, i) => ({ r, i }))
      .sort((x, y) => sign * (value(x.r) - value(y.r)) || x.i - y.i)
      .map((x) => x.r);
  }
  if (top !== null) out = out.slice(0, top);
  return {
    from: iso(read.buckets[0].start),
    to: iso(read.buckets.at(-1)!.end),
    grain: w.grain,
    timeZone: w.zone,
    rows: out.map((r) => ({
      bucket: r.key.bucket === null ? null : toBucket(read.buckets[r.key.bucket]),
      station: r.key.station === null ? null : (dir.station(r.key.station) ?? unknownStation(r.key.station)),
      department: r.key.department === null ? null : { id: r.key.department },
      figures: r.figures,
    })),
    total: toQualityFigures(total),
    line: qualityLine(dir, read),
    freshness: toFreshness(read.freshness),
  };
}

function unknownStation(id: string): StationRecord {
  return { id, name: id, zone: '', department: '', x: 0, y: 0, machines: [], flowIndex: null, idealCycleSec: null };
}
