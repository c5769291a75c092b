import type { Resolvers, ProductionGroup, ProductionOrderField, ErrorGroup } from '../generated/production.ts';
import { floorRefs } from '../shared/refs.ts';
import { iso, parseDateTime } from '../validate-args.ts';
import { createGenericQueries } from '../generic.ts';
import { checkIds, checkTop, parseWindow, selectStations, toBucket, toFreshness } from '../shared/window.ts';
import { connectionOf } from '../shared/connection.ts';
import { liveUpdates, resolveUpdate } from '../shared/updates.ts';
import type { ResolverContext } from '../context.ts';
import type { Directory, StationRecord } from '../shared/directory.ts';
import { createSeriesResolvers } from './series.ts';
import { createAlertResolvers } from '../alerts/alert-resolvers.ts';
import {
  activeHours,
  addCounts,
  availabilityFor,
  cycleCells,
  emptyCounts,
  oeeOf,
  performanceOf,
  qualityOf,
  readProduction,
  toFigures,
  type StationCounts,
} from './figures.ts';

const HOUR = 3_600_000;
const LIVE_METRICS = new Set(['parts_entered', 'parts_exited', 'station_errors']);

/** Options of the production resolvers. */
export interface ProductionResolverOptions {
  /** Largest number of buckets one `productionSeries`/`metricSeries` may span. Default 5000. */
  maxBuckets?: number;
}

/**
 * Resolvers of the production subgraph (schema/production.graphql): the floor from the ingested
 * floor map, report 1 (production summary, errors, WIP, OEE), work orders, the generic metric
 * catalogue, and live production per station.
 */
export function createProductionResolvers(opts: ProductionResolverOptions = {}): Resolvers {
  const maxBuckets = opts.maxBuckets ?? 5000;
  const series = createSeriesResolvers({ maxBuckets });
  const alerts = createAlertResolvers();
  return {
    ProductionMetric: series.ProductionMetric,
    AlertRule: alerts.AlertRule,
    AlertRuleStatus: alerts.AlertRuleStatus,
    AlertUpdateKind: alerts.AlertUpdateKind,
    Grain: { MINUTE: 'minute', HOUR: 'hour', SHIFT: 'shift', DAY: 'day', WEEK: 'week', MONTH: 'month' },
    Query: {
      ...createGenericQueries({ maxBuckets }),
      ...alerts.Query,
      productionSeries: series.productionSeries,
      stations: async (_root, args, ctx) => {
        const dir = await ctx.loaders.directory();
        const ids = new Set(selectStations(dir, args));
        return dir.stations.filter((s) => ids.has(s.id));
      },
      station: async (_root, { id }, ctx) => (await ctx.loaders.directory()).station(id) ?? null,
      machines: async (_root, args, ctx) => {
        const dir = await ctx.loaders.directory();
        const ids = checkIds(
          'station',
          args.stations,
          dir.stations.map((s) => s.id),
        );
        return dir.stations.filter((s) => !ids || ids.includes(s.id)).flatMap((s) => s.machines.map((id) => ({ id })));
      },
      zones: async (_root, _args, ctx) => (await ctx.loaders.directory()).zones.map((id) => ({ id })),
      departments: async (_root, _args, ctx) => (await ctx.loaders.directory()).departments.map((id) => ({ id })),
      shifts: (_root, _args, ctx) => ctx.calendar.shifts.map((s) => ({ id: s.id })),
      production: (_root, args, ctx) => productionReport(ctx, args),
      stationErrors: (_root, args, ctx) => errorReport(ctx, args),
      workOrders: async (_root, args, ctx) => {
        const skus = args.skus ? new Set(args.skus) : null;
        const rows = (await ctx.loaders.entities('work_order')).filter(
          (r) => !r.deleted && r.data && (!skus || skus.has(String((r.data as { sku?: unknown }).sku))),
        );
        return connectionOf(
          rows.map((r) => ({ id: r.key })),
          (r) => r.id,
          args,
        );
      },
      workOrder: async (_root, { id }, ctx) =>
        (await ctx.loaders.entities('work_order')).some((r) => r.key === id && !r.deleted) ? { id } : null,
    },
    Subscription: {
      ...alerts.Subscription,
      productionDeltas: series.productionDeltas,
      productionUpdates: {
        subscribe: (_root, args, ctx) => {
          const wanted = args.stations ? new Set(args.stations) : null;
          return liveUpdates(ctx, {
            after: args.after ?? null,
            metrics: LIVE_METRICS,
            snapshot: async () => {
              const dir = await ctx.loaders.directory();
              if (wanted)
                checkIds(
                  'station',
                  [...wanted],
                  dir.stations.map((s) => s.id),
                );
              const now = Date.now();
              const read = await readProduction(ctx, dir, {
                from: now - 1,
                to: now,
                grain: 'day',
                zone: ctx.calendar.zone,
              });
              const day = read.buckets[0].start;
              const items = [...read.counts]
                .filter(([s]) => !wanted || wanted.has(s))
                .map(([station, [c]]) => ({
                  station,
                  bucket: iso(day),
                  partsStarted: c.entered,
                  partsCompleted: c.exited,
                  errors: c.errors,
                }));
              return { items, freshness: read.freshness };
            },
            itemsOf: (d) => {
              const byKey = new Map<
                string,
                { station: string; bucket: string; partsStarted: number; partsCompleted: number; errors: number }
              >();
              for (const i of d.items) {
                const station = i.dims.station ?? '';
                if (wanted && !wanted.has(station)) continue;
                const key = `${station}\u0000${i.bucket}`;
                let item = byKey.get(key);
                if (!item)
                  byKey.set(
                    key,
                    (item = { station, bucket: iso(i.bucket), partsStarted: 0, partsCompleted: 0, errors: 0 }),
                  );
                const v = i.cells[0] ?? 0;
                if (i.metric === 'parts_entered') item.partsStarted += v;
                else if (i.metric === 'parts_exited') item.partsCompleted += v;
                else item.errors += v;
              }
              return [...byKey.values()];
            },
          });
        },
        resolve: resolveUpdate,
      },
    },
    Station: {
      __resolveReference: floorRefs.station,
      zone: (s) => ({ id: s.zone }),
      department: (s) => ({ id: s.department }),
      machines: (s) => s.machines.map((id) => ({ id })),
      production: async (s, args, ctx) => {
        const w = parseWindow(args, ctx, 'hour');
        const dir = await ctx.loaders.directory();
        const read = await readProduction(ctx, dir, { ...w, grain: null });
        const c = read.counts.get(s.id)?.[0] ?? emptyCounts(cycleCells(ctx));
        return toFigures(
          c,
          (read.buckets[0].end - read.buckets[0].start) / HOUR,
          read.wip.get(s.id)?.[0] ?? 0,
          bounds(ctx),
        );
      },
      wip: async (s, args, ctx) => {
        const at = args.at ? parseDateTime('at', args.at) : ctx.loaders.now();
        const to = Math.ceil(at / 60_000) * 60_000;
        const [entered, exited] = await Promise.all(
          ['parts_entered', 'parts_exited'].map((metric) =>
            ctx.loaders.read({ metric, from: ctx.calendar.historyStart, to, grain: null, zone: 'UTC' }),
          ),
        );
        const sum = (pts: typeof entered.points) =>
          pts.filter((p) => p.dims.station === s.id).reduce((a, p) => a + p.cells[0], 0);
        return sum(entered.points) - sum(exited.points);
      },
      oee: async (s, args, ctx) => {
        const w = parseWindow(args, ctx, 'hour');
        const dir = await ctx.loaders.directory();
        const [read, hours] = await Promise.all([
          readProduction(ctx, dir, { ...w, grain: null }),
          activeHours(ctx, w.from, w.to, w.zone),
        ]);
        const c = read.counts.get(s.id)?.[0] ?? emptyCounts(cycleCells(ctx));
        return oeeOf({
          availability: availabilityFor(hours, s.id),
          performance: performanceOf(s, c),
          quality: qualityOf(c),
        });
      },
    },
    Machine: {
      __resolveReference: floorRefs.machine,
      station: async (m, _args, ctx) => (await ctx.loaders.directory()).stationOfMachine(m.id)!,
    },
    Zone: {
      __resolveReference: floorRefs.zone,
      stations: async (z, _args, ctx) => (await ctx.loaders.directory()).stations.filter((s) => s.zone === z.id),
    },
    Department: {
      __resolveReference: floorRefs.department,
      stations: async (d, _args, ctx) => (await ctx.loaders.directory()).stations.filter((s) => s.department === d.id),
    },
    Shift: {
      __resolveReference: floorRefs.shift,
      start: (s, _args, ctx) => hhmm(ctx.calendar.shifts.find((x) => x.id === s.id)!.startMinute),
      end: (s, _args, ctx) => {
        const shifts = ctx.calendar.shifts;
        const i = shifts.findIndex((x) => x.id === s.id);
        return hhmm(shifts[(i + 1) % shifts.length].startMinute);
      },
    },
    WorkOrder: {
      __resolveReference: async (ref, ctx) =>
        (await ctx.loaders.entities('work_order')).some((r) => r.key === ref.id && !r.deleted) ? { id: ref.id! } : null,
      sku: async (wo, _args, ctx) => String(workOrderData(await ctx.loaders.entities('work_order'), wo.id).sku ?? ''),
      plannedQty: async (wo, _args, ctx) =>
        Number(workOrderData(await ctx.loaders.entities('work_order'), wo.id).plannedQty ?? 0),
      dueDate: async (wo, _args, ctx) =>
        String(workOrderData(await ctx.loaders.entities('work_order'), wo.id).dueDate ?? ''),
    },
  };
}

function workOrderData(rows: Array<{ key: string; data: unknown }>, id: string): Record<string, unknown> {
  return (rows.find((r) => r.key === id)?.data ?? {}) as Record<string, unknown>;
}

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

function bounds(ctx: ResolverContext): number[] {
  return ctx.serving.metrics().find((m) => m.name === 'cycle_time')?.bounds ?? [];
}

interface RowKey {
  bucket: number | null;
  station: string | null;
  zone: string | null;
  department: string | null;
}

async function productionReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: 'minute' | 'hour' | 'shift' | 'day' | 'week' | 'month' | null;
    timeZone?: string | null;
    stations?: string[] | null;
    zones?: string[] | null;
    departments?: string[] | null;
    groupBy?: ProductionGroup[] | null;
    orderBy?: { field: ProductionOrderField; direction?: 'ASC' | 'DESC' | null } | null;
    top?: number | null;
  },
) {
  const w = parseWindow(args, ctx, 'hour');
  const top = checkTop(args.top);
  const dir = await ctx.loaders.directory();
  const selected = new Set(selectStations(dir, args));
  const groupBy = new Set(args.groupBy ?? ['TIME', 'STATION']);
  const byTime = groupBy.has('TIME');
  const [read, hours] = await Promise.all([
    readProduction(ctx, dir, { ...w, grain: byTime ? w.grain : null }),
    activeHours(ctx, w.from, w.to, w.zone),
  ]);
  const cells = cycleCells(ctx);
  const b = bounds(ctx);
  const rows = new Map<string, { key: RowKey; counts: StationCounts; wip: number }>();
  for (const [station, list] of read.counts) {
    if (!selected.has(station)) continue;
    const rec = dir.station(station);
    list.forEach((c, i) => {
      const key: RowKey = {
        bucket: byTime ? i : null,
        station: groupBy.has('STATION') ? station : null,
        zone: groupBy.has('ZONE') ? (rec?.zone ?? '') : null,
        department: groupBy.has('DEPARTMENT') ? (rec?.department ?? '') : null,
      };
      const k = JSON.stringify(key);
      let row = rows.get(k);
      if (!row) rows.set(k, (row = { key, counts: emptyCounts(cells), wip: 0 }));
      addCounts(row.counts, c);
      // A row without TIME holds the stock at the range's end; with TIME, at its bucket's end.
      if (byTime || i === list.length - 1) row.wip += read.wip.get(station)![i];
    });
  }
  const span = (i: number | null) =>
    (i === null ? read.buckets.at(-1)!.end - read.buckets[0].start : read.buckets[i].end - read.buckets[i].start) /
    HOUR;
  let out = [...rows.values()].map((r) => ({ key: r.key, figures: toFigures(r.counts, span(r.key.bucket), r.wip, b) }));
  const flowPos = (id: string | null) => (id === null ? 0 : (dir.station(id)?.flowIndex ?? 1000));
  out.sort(
    (x, y) =>
      (x.key.bucket ?? 0) - (y.key.bucket ?? 0) ||
      flowPos(x.key.station) - flowPos(y.key.station) ||
      `${x.key.zone}${x.key.department}`.localeCompare(`${y.key.zone}${y.key.department}`),
  );
  if (args.orderBy) {
    const value = (r: (typeof out)[number]): number => {
      switch (args.orderBy!.field) {
        case 'TIME':
          return r.key.bucket ?? 0;
        case 'PARTS_STARTED':
          return r.figures.partsStarted;
        case 'PARTS_COMPLETED':
          return r.figures.partsCompleted;
        case 'ERRORS':
          return r.figures.errors;
        case 'ERROR_RATE':
          return r.figures.errorRate ?? -1;
        case 'WIP':
          return r.figures.wip;
      }
    };
    const dirSign = args.orderBy.direction === 'ASC' ? 1 : -1;
    out = out
      .map((r, i) => ({ r, i }))
      .sort((x, y) => dirSign * (value(x.r) - value(y.r)) || x.i - y.i)
      .map((x) => x.r);
  }
  if (top !== null) out = out.slice(0, top);

  const total = emptyCounts(cells);
  let totalWip = 0;
  for (const [station, list] of read.counts) {
    if (!selected.has(station)) continue;
    for (const c of list) addCounts(total, c);
    totalWip += read.wip.get(station)!.at(-1)!;
  }
  return {
    from: iso(read.buckets[0].start),
    to: iso(read.buckets.at(-1)!.end),
    grain: w.grain,
    timeZone: w.zone,
    rows: out.map((r) => ({
      bucket: r.key.bucket === null ? null : toBucket(read.buckets[r.key.bucket]),
      station: r.key.station === null ? null : (dir.station(r.key.station) ?? unknownStation(r.key.station)),
      zone: r.key.zone === null ? null : { id: r.key.zone },
      department: r.key.department === null ? null : { id: r.key.department },
      figures: r.figures,
    })),
    total: toFigures(total, span(null), totalWip, b),
    line: lineFigures(dir, read, hours, span(null), cells),
    freshness: toFreshness(read.freshness),
  };
}

/**
 * The line: parts started at the first flow station, completed at the last; OEE with the last
 * station's availability, the exit-weighted mean performance and the product of the flow
 * stations' quality (first-pass yield).
 */
function lineFigures(
  dir: Directory,
  read: Awaited<ReturnType<typeof readProduction>>,
  hours: Awaited<ReturnType<typeof activeHours>>,
  rangeHours: number,
  cells: number,
) {
  const sum = (id: string | undefined) => {
    const out = emptyCounts(cells);
    for (const c of (id && read.counts.get(id)) || []) addCounts(out, c);
    return out;
  };
  const first = dir.flow[0];
  const last = dir.flow.at(-1);
  const completed = sum(last?.id).exited;
  let perfWeight = 0;
  let perfSum = 0;
  let quality: number | null = dir.flow.length ? 1 : null;
  for (const s of dir.flow) {
    const c = sum(s.id);
    const p = performanceOf(s, c);
    if (p !== null) {
      perfSum += p * c.exited;
      perfWeight += c.exited;
    }
    const q = qualityOf(c);
    quality = quality === null || q === null ? null : quality * q;
  }
  let wip = 0;
  for (const s of dir.stations) wip += read.wip.get(s.id)?.at(-1) ?? 0;
  return {
    partsStarted: sum(first?.id).entered,
    partsCompleted: completed,
    throughputPerHour: rangeHours > 0 ? completed / rangeHours : 0,
    wip,
    oee: oeeOf({
      availability: last ? availabilityFor(hours, last.id) : null,
      performance: perfWeight > 0 ? perfSum / perfWeight : null,
      quality,
    }),
  };
}

function unknownStation(id: string): StationRecord {
  return { id, name: id, zone: '', department: '', x: 0, y: 0, machines: [], flowIndex: null, idealCycleSec: null };
}

async function errorReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: 'minute' | 'hour' | 'shift' | 'day' | 'week' | 'month' | null;
    timeZone?: string | null;
    stations?: string[] | null;
    departments?: string[] | null;
    codes?: string[] | null;
    groupBy?: ErrorGroup[] | null;
    top?: number | null;
  },
) {
  const w = parseWindow(args, ctx, 'day');
  const top = checkTop(args.top);
  const dir = await ctx.loaders.directory();
  const selected = new Set(selectStations(dir, args));
  const codes = args.codes ? new Set(args.codes) : null;
  const groupBy = new Set(args.groupBy ?? ['STATION', 'CODE']);
  const byTime = groupBy.has('TIME');
  const r = await ctx.loaders.read({
    metric: 'station_errors',
    from: w.from,
    to: w.to,
    grain: byTime ? w.grain : null,
    zone: w.zone,
  });
  const rows = new Map<
    string,
    { bucket: number | null; station: string | null; department: string | null; code: string | null; count: number }
  >();
  let total = 0;
  for (const p of r.points) {
    const station = p.dims.station;
    const code = p.dims.errorCode;
    if (!selected.has(station) || (codes && !codes.has(code))) continue;
    const key = {
      bucket: byTime ? p.bucket : null,
      station: groupBy.has('STATION') ? station : null,
      department: groupBy.has('DEPARTMENT') ? (dir.station(station)?.department ?? '') : null,
      code: groupBy.has('CODE') ? code : null,
    };
    const k = JSON.stringify(key);
    const row = rows.get(k) ?? { ...key, count: 0 };
    row.count += p.cells[0];
    rows.set(k, row);
    total += p.cells[0];
  }
  let out = [...rows.values()];
  if (top !== null) out = out.sort((a, b) => b.count - a.count).slice(0, top);
  else
    out.sort(
      (a, b) =>
        (a.bucket ?? 0) - (b.bucket ?? 0) ||
        (dir.station(a.station ?? '')?.flowIndex ?? 99) - (dir.station(b.station ?? '')?.flowIndex ?? 99) ||
        String(a.code).localeCompare(String(b.code)),
    );
  return {
    rows: out.map((x) => ({
      bucket: x.bucket === null ? null : toBucket(r.buckets[x.bucket]),
      station: x.station === null ? null : (dir.station(x.station) ?? unknownStation(x.station)),
      department: x.department === null ? null : { id: x.department },
      code: x.code,
      count: x.count,
    })),
    total,
    freshness: toFreshness(r.freshness),
  };
}
