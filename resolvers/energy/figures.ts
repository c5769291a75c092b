import { mergeFreshness, type CalendarResult } from '../../serving/calendar-series.ts';
import type { Freshness } from '../../serving/types.ts';
import type { CalendarGrain } from '../../serving/calendar.ts';
import type { ResolverContext } from '../context.ts';
import type { Directory, StationRecord } from '../shared/directory.ts';

/** Energy and the parts it went into, before the API's shape. */
export interface EnergySums {
  wh: number;
  /** null when the figures cover no station (grouped by time only). */
  parts: number | null;
}

/** The API's `EnergyFigures`: kWh and Wh per part derived from one sum. */
export function energyFigures(s: EnergySums) {
  return { wh: s.wh, kwh: s.wh / 1000, partsCompleted: s.parts, whPerPart: s.parts ? s.wh / s.parts : null };
}

/** The two reads every energy figure needs: energy per machine and parts per station, same buckets. */
export interface EnergyRead {
  energy: CalendarResult;
  exited: CalendarResult;
  freshness: Freshness;
}

export async function readEnergy(
  ctx: ResolverContext,
  w: { from: number; to: number; grain: CalendarGrain | null; zone: string },
): Promise<EnergyRead> {
  const [energy, exited] = await Promise.all(
    ['energy_wh', 'parts_exited'].map((metric) => ctx.loaders.read({ metric, ...w })),
  );
  const total = (r: CalendarResult) => r.points.reduce((s, p) => s + p.cells[0], 0);
  return {
    energy,
    exited,
    freshness: mergeFreshness([
      { f: energy.freshness, total: total(energy) },
      { f: exited.freshness, total: total(exited) },
    ]),
  };
}

/** Parts that left each station, per bucket index: station → counts. */
export function exitsByStation(r: CalendarResult): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of r.points) {
    let list = out.get(p.dims.station);
    if (!list) out.set(p.dims.station, (list = r.buckets.map(() => 0)));
    list[p.bucket] += p.cells[0];
  }
  return out;
}

/**
 * Whole-range energy of a set of machines and the parts that left their stations (entity fields:
 * Station/Machine/Zone/Department `energy`). Every entity of one query shares the same two reads.
 */
export async function energyOfMachines(
  ctx: ResolverContext,
  dir: Directory,
  machines: readonly string[],
  range: { from: number; to: number },
) {
  const read = await readEnergy(ctx, { ...range, grain: null, zone: 'UTC' });
  const set = new Set(machines);
  const stations = new Set(machines.map((m) => dir.stationOfMachine(m)?.id).filter((s): s is string => !!s));
  let wh = 0;
  for (const p of read.energy.points) if (set.has(p.dims.machine)) wh += p.cells[0];
  let parts = 0;
  for (const p of read.exited.points) if (stations.has(p.dims.station)) parts += p.cells[0];
  return energyFigures({ wh, parts });
}

/** Whole-range energy of the machines of every station `pick` selects (a zone's, a department's). */
export async function energyOfStations(
  ctx: ResolverContext,
  pick: (s: StationRecord) => boolean,
  range: { from: number; to: number },
) {
  const dir = await ctx.loaders.directory();
  return energyOfMachines(
    ctx,
    dir,
    dir.stations.filter(pick).flatMap((s) => s.machines),
    range,
  );
}

/** Temperature figures from the three heat metrics' cells (centi-°C sums and max). */
export function temperatureFigures(readings: number, sumCentiC: number, maxCentiC: number | null) {
  return {
    readings,
    meanC: readings > 0 ? sumCentiC / readings / 100 : null,
    maxC: readings > 0 && maxCentiC !== null ? maxCentiC / 100 : null,
  };
}
