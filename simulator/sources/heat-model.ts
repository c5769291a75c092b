import type { FloorMap } from '../floor.ts';
import { createRng, deriveSeed, type Rng } from '../prng.ts';

/**
 * The MyCPU heat sensors (MYCPU.md: 2–3 per zone): where they hang, what they read. Pure function
 * of the floor map, the seed and the start time; state is O(sensors), whatever the run's length.
 */

/** Every sensor reads once per this period (simulated ms). */
export const READING_INTERVAL_MS = 10_000;

export interface HeatSensor {
  /** e.g. `H-Z3-2`: zone, then 1-based index inside the zone. */
  id: string;
  zone: string;
  /** Station it hangs beside; sets its level (the burn-in oven is hotter than the curing oven). */
  station: string;
  /** Phase inside the period, ms: sensors report spread out, not all at once. */
  offsetMs: number;
  /** Zone-typical level at the day's mean, centi-°C. */
  baseC: number;
  /** Half the daily swing, centi-°C. */
  swingC: number;
}

export interface HeatReading {
  /** Deterministic: id prefix (seed + start), sensor, period number. */
  readingId: string;
  sensorId: string;
  zone: string;
  /** Reading time, epoch ms. */
  at: number;
  centiC: number;
}

/** Level beside a station, centi-°C, on top of the 21 °C hall: the thermal zone is hot, burn-in hotter. */
const STATION_HEAT: Record<string, number> = { CUR: 1_100, BRN: 2_000, TST: 350, REW: 150, DIE: 100, BND: 150 };
const HALL_C = 2_100;

/** 3 sensors in zones with an oven (department Thermal), 2 elsewhere; anchored round-robin over the zone's stations. */
export function heatSensors(floor: FloorMap, seed: number): HeatSensor[] {
  const rng = createRng(deriveSeed(seed, 'heat-sensors'));
  const zones = new Map<string, FloorMap['stations']>();
  for (const st of floor.stations) zones.set(st.zone, [...(zones.get(st.zone) ?? []), st]);
  const sensors: Omit<HeatSensor, 'offsetMs'>[] = [];
  for (const [zone, stations] of zones) {
    const count = stations.some((s) => s.department === 'Thermal') ? 3 : 2;
    for (let j = 0; j < count; j++) {
      const st = stations[j % stations.length];
      // The receiving dock's doors open to the yard: it follows the weather most.
      const swingC = stations.some((x) => x.id === 'RCV') ? 300 : 120;
      sensors.push({
        id: `H-${zone}-${j + 1}`,
        zone,
        station: st.id,
        baseC: HALL_C + (STATION_HEAT[st.id] ?? 0) + rng.int(-40, 40),
        swingC,
      });
    }
  }
  // Evenly spread phases, in list order, so the generator's order inside a period is the list order.
  return sensors.map((s, i) => ({ ...s, offsetMs: Math.floor((i * READING_INTERVAL_MS) / sensors.length) }));
}

/** The sensor's true temperature at `t` (before noise): level plus a daily swing peaking at 15:00 UTC. */
export function expectedCentiC(s: HeatSensor, t: number): number {
  const hour = (t % 86_400_000) / 3_600_000;
  return s.baseC + s.swingC * Math.sin((2 * Math.PI * (hour - 9)) / 24);
}

export interface HeatModel {
  /** Time of the reading `next()` returns. */
  peekTime(): number;
  next(): HeatReading;
  readonly sensors: readonly HeatSensor[];
}

/** Readings in non-decreasing time (ties in sensor order), from the first one at or after `startTime`. */
export function createHeatModel(opts: {
  floor: FloorMap;
  seed: number;
  startTime: number;
  idPrefix: string;
}): HeatModel {
  const sensors = heatSensors(opts.floor, opts.seed);
  const noise: Rng = createRng(deriveSeed(opts.seed, 'heat-noise'));
  let period = Math.floor(opts.startTime / READING_INTERVAL_MS);
  let i = 0;
  const timeOf = () => period * READING_INTERVAL_MS + sensors[i].offsetMs;
  const step = () => {
    if (++i === sensors.length) [i, period] = [0, period + 1];
  };
  while (timeOf() < opts.startTime) step();
  return {
    sensors,
    peekTime: timeOf,
    next() {
      const s = sensors[i];
      const at = timeOf();
      const centiC = Math.round(expectedCentiC(s, at)) + noise.triangular(-30, 0, 30);
      const reading = {
        readingId: `${opts.idPrefix}-${s.id}-${period.toString(36)}`,
        sensorId: s.id,
        zone: s.zone,
        at,
        centiC,
      };
      step();
      return reading;
    },
  };
}
