import type { Resolvers, EnergyGroup, EnergyOrderField, TemperatureGroup } from '../generated/energy.ts';
import { floorRefs } from '../shared/refs.ts';
import { iso, parseRange } from '../validate-args.ts';
import { mergeFreshness } from '../../serving/calendar-series.ts';
import { checkIds, checkTop, parseWindow, selectStations, toBucket, toFreshness } from '../shared/window.ts';
import { liveUpdates, resolveUpdate } from '../shared/updates.ts';
import type { ResolverContext } from '../context.ts';
import type { Directory, StationRecord } from '../shared/directory.ts';
import type { CalendarGrain } from '../../serving/calendar.ts';
import {
  energyFigures,
  energyOfMachines,
  energyOfStations,
  exitsByStation,
  readEnergy,
  temperatureFigures,
} from './figures.ts';

const HEAT = ['zone_temp_count', 'zone_temp_sum', 'zone_temp_max'] as const;
const HOUR = 3_600_000;

/**
 * Resolvers of the energy subgraph (schema/energy.graphql): report 3 — energy per machine,
 * station, zone and department with energy per part, the line's energy per part, zone
 * temperatures for the heat map — the entities' energy fields, and live energy and heat.
 */
export function createEnergyResolvers(): Resolvers {
  return {
    Grain: { MINUTE: 'minute', HOUR: 'hour', SHIFT: 'shift', DAY: 'day', WEEK: 'week', MONTH: 'month' },
    Query: {
      energy: (_root, args, ctx) => energyReport(ctx, args),
      zoneTemperatures: (_root, args, ctx) => temperatureReport(ctx, args),
    },
    Subscription: {
      energyUpdates: {
        subscribe: async (_root, args, ctx) => {
          const dir = await ctx.loaders.directory();
          const wanted = checkIds('machine', args.machines, dir.machines);
          const keep = (m: string) => !wanted || wanted.includes(m);
          return liveUpdates(ctx, {
            after: args.after ?? null,
            metrics: new Set(['energy_wh']),
            snapshot: async () => {
              const now = Date.now();
              const r = await ctx.loaders.read({
                metric: 'energy_wh',
                from: now - 1,
                to: now,
                grain: 'day',
                zone: ctx.calendar.zone,
              });
              const wh = new Map<string, number>();
              for (const p of r.points)
                if (keep(p.dims.machine)) wh.set(p.dims.machine, (wh.get(p.dims.machine) ?? 0) + p.cells[0]);
              const day = iso(r.buckets[0].start);
              return {
                items: [...wh]
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([machine, v]) => ({ machine, bucket: day, wh: v })),
                freshness: r.freshness,
              };
            },
            itemsOf: (d) =>
              d.items
                .filter((i) => keep(i.dims.machine ?? ''))
                .map((i) => ({ machine: i.dims.machine ?? '', bucket: iso(i.bucket), wh: i.cells[0] ?? 0 })),
          });
        },
        resolve: resolveUpdate,
      },
      zoneTemperatureUpdates: {
        subscribe: async (_root, args, ctx) => {
          const dir = await ctx.loaders.directory();
          const wanted = checkIds('zone', args.zones, dir.zones);
          const keep = (z: string) => !wanted || wanted.includes(z);
          return liveUpdates(ctx, {
            after: args.after ?? null,
            metrics: new Set(HEAT),
            snapshot: async () => {
              const to = Math.ceil(Date.now() / 60_000) * 60_000;
              const from = to - HOUR;
              const reads = await Promise.all(
                HEAT.map((metric) => ctx.loaders.read({ metric, from, to, grain: null, zone: 'UTC' })),
              );
              const items = heatItems(
                reads.map((r) => r.points.map((p) => ({ zone: p.dims.zone, bucket: from, cell: p.cells[0] }))),
                keep,
              );
              const total = (i: number) => reads[i].points.reduce((s, p) => s + p.cells[0], 0);
              return { items, freshness: mergeFreshness(reads.map((r, i) => ({ f: r.freshness, total: total(i) }))) };
            },
            itemsOf: (d) =>
              heatItems(
                HEAT.map((m) =>
                  d.items
                    .filter((i) => i.metric === m)
                    .map((i) => ({ zone: i.dims.zone ?? '', bucket: i.bucket, cell: i.cells[0] ?? 0 })),
                ),
                keep,
              ),
          });
        },
        resolve: resolveUpdate,
      },
    },
    Station: {
      __resolveReference: floorRefs.station,
      energy: async (s, args, ctx) =>
        energyOfMachines(ctx, await ctx.loaders.directory(), s.machines, parseRange(args)),
    },
    Machine: {
      __resolveReference: floorRefs.machine,
      energy: async (m, args, ctx) => energyOfMachines(ctx, await ctx.loaders.directory(), [m.id], parseRange(args)),
    },
    Zone: {
      __resolveReference: floorRefs.zone,
      energy: (z, args, ctx) => energyOfStations(ctx, (s) => s.zone === z.id, parseRange(args)),
      temperature: async (z, args, ctx) => {
        const { from, to } = parseRange(args);
        const [count, sum, max] = await Promise.all(
          HEAT.map((metric) => ctx.loaders.read({ metric, from, to, grain: null, zone: 'UTC' })),
        );
        const of = (r: typeof count, merge: (a: number, b: number) => number) =>
          r.points
            .filter((p) => p.dims.zone === z.id)
            .reduce<number | null>((a, p) => (a === null ? p.cells[0] : merge(a, p.cells[0])), null);
        return temperatureFigures(of(count, (a, b) => a + b) ?? 0, of(sum, (a, b) => a + b) ?? 0, of(max, Math.max));
      },
    },
    Department: {
      __resolveReference: floorRefs.department,
      energy: (d, args, ctx) => energyOfStations(ctx, (s) => s.department === d.id, parseRange(args)),
    },
  };
}

/** Heat items per (zone, bucket) from the count, sum and max metrics' cells, in that order. */
function heatItems(
  parts: Array<Array<{ zone: string; bucket: number; cell: number }>>,
  keep: (zone: string) => boolean,
) {
  const out = new Map<
    string,
    { zone: string; bucket: string; readings: number; sumCentiC: number; maxC: number | null }
  >();
  parts.forEach((list, i) => {
    for (const x of list) {
      if (!keep(x.zone)) continue;
      const k = `${x.zone}\u0000${x.bucket}`;
      let item = out.get(k);
      if (!item) out.set(k, (item = { zone: x.zone, bucket: iso(x.bucket), readings: 0, sumCentiC: 0, maxC: null }));
      if (i === 0) item.readings += x.cell;
      else if (i === 1) item.sumCentiC += x.cell;
      else item.maxC = Math.max(item.maxC ?? -Infinity, x.cell / 100);
    }
  });
  return [...out.values()].sort((a, b) => a.bucket.localeCompare(b.bucket) || a.zone.localeCompare(b.zone));
}

interface EnergyKey {
  bucket: number | null;
  machine: string | null;
  station: string | null;
  zone: string | null;
  department: string | null;
}

type GrainArg = CalendarGrain | null | undefined;

async function energyReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: GrainArg;
    timeZone?: string | null;
    machines?: string[] | null;
    stations?: string[] | null;
    zones?: string[] | null;
    departments?: string[] | null;
    groupBy?: EnergyGroup[] | null;
    orderBy?: { field: EnergyOrderField; direction?: 'ASC' | 'DESC' | null } | null;
    top?: number | null;
  },
) {
  const w = parseWindow(args, ctx, 'hour');
  const top = checkTop(args.top);
  const dir = await ctx.loaders.directory();
  const machineFilter = checkIds('machine', args.machines, dir.machines);
  const stationFiltered = args.stations != null || args.zones != null || args.departments != null;
  const selected = new Set(selectStations(dir, args));
  // A machine the floor map does not know still counts when nothing narrows by place.
  const keepMachine = (m: string) => {
    if (machineFilter && !machineFilter.includes(m)) return false;
    const st = dir.stationOfMachine(m);
    return st ? selected.has(st.id) : !stationFiltered;
  };
  const groupBy = new Set(args.groupBy ?? ['MACHINE']);
  const byTime = groupBy.has('TIME');
  const read = await readEnergy(ctx, { ...w, grain: byTime ? w.grain : null });
  const buckets = read.energy.buckets;
  const exits = exitsByStation(read.exited);
  const placed = groupBy.has('MACHINE') || groupBy.has('STATION') || groupBy.has('ZONE') || groupBy.has('DEPARTMENT');

  const rows = new Map<string, { key: EnergyKey; wh: number }>();
  let totalWh = 0;
  let lineWh = 0;
  for (const p of read.energy.points) {
    const machine = p.dims.machine;
    lineWh += p.cells[0];
    if (!keepMachine(machine)) continue;
    totalWh += p.cells[0];
    const st = dir.stationOfMachine(machine);
    const key: EnergyKey = {
      bucket: byTime ? p.bucket : null,
      machine: groupBy.has('MACHINE') ? machine : null,
      station: groupBy.has('STATION') ? (st?.id ?? '') : null,
      zone: groupBy.has('ZONE') ? (st?.zone ?? '') : null,
      department: groupBy.has('DEPARTMENT') ? (st?.department ?? '') : null,
    };
    const k = JSON.stringify(key);
    const row = rows.get(k) ?? rows.set(k, { key, wh: 0 }).get(k)!;
    row.wh += p.cells[0];
  }
  // Parts of the stations a row covers: those of its machines (all selected ones that match its key).
  const partsOf = (key: EnergyKey | null): number => {
    let n = 0;
    for (const s of dir.stations) {
      if (!selected.has(s.id) || !s.machines.some(keepMachine)) continue;
      if (
        key &&
        ((key.machine !== null && dir.stationOfMachine(key.machine)?.id !== s.id) ||
          (key.station !== null && key.station !== s.id) ||
          (key.zone !== null && key.zone !== s.zone) ||
          (key.department !== null && key.department !== s.department))
      )
        continue;
      const list = exits.get(s.id);
      if (list) n += key?.bucket != null ? list[key.bucket] : list.reduce((a, b) => a + b, 0);
    }
    return n;
  };
  let out = [...rows.values()].map((r) => ({
    key: r.key,
    figures: energyFigures({ wh: r.wh, parts: placed ? partsOf(r.key) : null }),
  }));
  const flowPos = (s: StationRecord | undefined) => s?.flowIndex ?? 1000;
  out.sort(
    (x, y) =>
      (x.key.bucket ?? 0) - (y.key.bucket ?? 0) ||
      flowPos(dir.station(x.key.station ?? '') ?? dir.stationOfMachine(x.key.machine ?? '')) -
        flowPos(dir.station(y.key.station ?? '') ?? dir.stationOfMachine(y.key.machine ?? '')) ||
      `${x.key.machine}${x.key.station}${x.key.zone}${x.key.department}`.localeCompare(
        `${y.key.machine}${y.key.station}${y.key.zone}${y.key.department}`,
      ),
  );
  if (args.orderBy) {
    const field = args.orderBy.field;
    const value = (r: (typeof out)[number]) =>
      field === 'TIME' ? (r.key.bucket ?? 0) : field === 'KWH' ? r.figures.kwh : (r.figures.whPerPart ?? -1);
    const sign = args.orderBy.direction === 'ASC' ? 1 : -1;
    out = out
      .map((r, i) => ({ r, i }))
      .sort((a, b) => sign * (value(a.r) - value(b.r)) || a.i - b.i)
      .map((x) => x.r);
  }
  if (top !== null) out = out.slice(0, top);

  const last = dir.flow.at(-1);
  const lineParts = last ? (exits.get(last.id) ?? []).reduce((a, b) => a + b, 0) : 0;
  return {
    from: iso(buckets[0].start),
    to: iso(buckets.at(-1)!.end),
    grain: w.grain,
    timeZone: w.zone,
    rows: out.map((r) => ({
      bucket: r.key.bucket === null ? null : toBucket(buckets[r.key.bucket]),
      machine: r.key.machine === null ? null : { id: r.key.machine },
      station: r.key.station === null ? null : (dir.station(r.key.station) ?? unknownStation(r.key.station)),
      zone: r.key.zone === null ? null : { id: r.key.zone },
      department: r.key.department === null ? null : { id: r.key.department },
      figures: r.figures,
    })),
    total: energyFigures({ wh: totalWh, parts: partsOf(null) }),
    line: { ...energyFigures({ wh: lineWh, parts: lineParts }), partsCompleted: lineParts },
    freshness: toFreshness(read.freshness),
  };
}

function unknownStation(id: string): StationRecord {
  return { id, name: id, zone: '', department: '', x: 0, y: 0, machines: [], flowIndex: null, idealCycleSec: null };
}

async function temperatureReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: GrainArg;
    timeZone?: string | null;
    zones?: string[] | null;
    groupBy?: TemperatureGroup[] | null;
  },
) {
  const w = parseWindow(args, ctx, 'hour');
  const dir: Directory = await ctx.loaders.directory();
  const zones = checkIds('zone', args.zones, dir.zones);
  const groupBy = new Set(args.groupBy ?? ['TIME', 'ZONE']);
  const byTime = groupBy.has('TIME');
  const reads = await Promise.all(
    HEAT.map((metric) => ctx.loaders.read({ metric, ...w, grain: byTime ? w.grain : null })),
  );
  const rows = new Map<
    string,
    { bucket: number | null; zone: string | null; count: number; sum: number; max: number | null }
  >();
  reads.forEach((r, i) => {
    for (const p of r.points) {
      if (zones && !zones.includes(p.dims.zone)) continue;
      const key = { bucket: byTime ? p.bucket : null, zone: groupBy.has('ZONE') ? p.dims.zone : null };
      const k = JSON.stringify(key);
      const row = rows.get(k) ?? rows.set(k, { ...key, count: 0, sum: 0, max: null }).get(k)!;
      if (i === 0) row.count += p.cells[0];
      else if (i === 1) row.sum += p.cells[0];
      else row.max = Math.max(row.max ?? -Infinity, p.cells[0]);
    }
  });
  const buckets = reads[0].buckets;
  const out = [...rows.values()].sort(
    (a, b) => (a.bucket ?? 0) - (b.bucket ?? 0) || String(a.zone).localeCompare(String(b.zone)),
  );
  const total = (i: number) => reads[i].points.reduce((s, p) => s + p.cells[0], 0);
  return {
    rows: out.map((r) => ({
      bucket: r.bucket === null ? null : toBucket(buckets[r.bucket]),
      zone: r.zone === null ? null : { id: r.zone },
      figures: temperatureFigures(r.count, r.sum, r.max),
    })),
    freshness: toFreshness(mergeFreshness(reads.map((r, i) => ({ f: r.freshness, total: total(i) })))),
  };
}
