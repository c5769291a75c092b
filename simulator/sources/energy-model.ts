import type { FloorMap } from '../floor.ts';
import type { Rng } from '../prng.ts';

/**
 * The MyCPU energy meters (MYCPU.md: one per machine) and the lines of the daily energy report.
 * Kept apart from the writer so the writer only deals with files, faults and the ledger.
 */

/** Meters report once per interval (simulated ms). */
export const INTERVAL_MS = 60_000;

/** The report's header line (docs/sources.md, row 7). */
export const ENERGY_HEADER = 'interval_start,machine_id,wh';

/** Typical draw of a machine at each station, watts: ovens and burn-in dominate the bill. */
const STATION_WATTS: Record<string, number> = {
  CUR: 24_000,
  BRN: 30_000,
  TST: 6_000,
  DIE: 4_500,
  BND: 3_800,
  ENC: 3_000,
  MRK: 2_500,
  REW: 1_800,
  PKG: 1_500,
  INS: 1_200,
  SHP: 900,
  RCV: 700,
};
const DEFAULT_WATTS = 2_000;

export interface Meter {
  machineId: string;
  station: string;
  /** Mean energy per interval, Wh. */
  meanWh: number;
}

/** One meter per machine, in floor-map order (which is also the row order inside an interval). */
export function energyMeters(floor: FloorMap): Meter[] {
  return floor.stations.flatMap((st) =>
    st.machines.map((machineId) => ({
      machineId,
      station: st.id,
      meanWh: ((STATION_WATTS[st.id] ?? DEFAULT_WATTS) * INTERVAL_MS) / 3_600_000,
    })),
  );
}

/** One interval's reading, Wh (integer ≥ 0): ±8 % noise, and now and then an idle interval at a quarter of the draw. */
export function meterReading(m: Meter, rng: Rng): number {
  const idle = rng.chance(0.03) ? 0.25 : 1;
  return Math.max(0, Math.round(m.meanWh * idle * (1 + (rng.next() - 0.5) * 0.16)));
}

export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const energyLine = (intervalStart: number, machineId: string, wh: number): string =>
  `${new Date(intervalStart).toISOString()},${machineId},${wh}`;

/** The ways a meter gateway garbles a line; none of them is a reading. */
export const MALFORMED_FLAVOURS = ['bad_number', 'missing_column', 'garbage', 'bad_time'] as const;
export type MalformedFlavour = (typeof MALFORMED_FLAVOURS)[number];

export function malformedLine(flavour: MalformedFlavour, intervalStart: number, m: Meter, rng: Rng): string {
  const iso = new Date(intervalStart).toISOString();
  switch (flavour) {
    case 'bad_number':
      return `${iso},${m.machineId},${rng.pick(['#VALUE!', 'N/A', `${Math.round(m.meanWh)}.5`, `-${Math.round(m.meanWh)}`, '1O7'])}`;
    case 'missing_column':
      return `${iso},${m.machineId}`;
    case 'garbage':
      // An unterminated quote too: a CSV parser fed the whole file would swallow the next lines.
      return rng.pick([
        `METER-GW-${rng.int(1, 9)} ERR 0x${rng.int(16, 255).toString(16)} link reset`,
        `"meter ${m.machineId} offline`,
        '<html><body>502 Bad Gateway</body></html>',
      ]);
    case 'bad_time':
      return `${iso.slice(0, 5)}13-45${iso.slice(10)},${m.machineId},${Math.round(m.meanWh)}`;
  }
}
