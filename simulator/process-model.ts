/**
 * How work happens at each station of the MyCPU line: cycle times, error codes and routing.
 * Cycle times span 5 s … 400 s so that every bucket of the report's cycle-time histogram
 * (15 s … 300 s and above) gets observations.
 */
export interface StationProcess {
  /** Cycle time, ms: triangular(min, mode, max). */
  readonly cycleMs: readonly [min: number, mode: number, max: number];
  /** Probability that an exit reports an error code. At TST an error means the part failed test. */
  readonly errorRate: number;
  readonly errorCodes: readonly string[];
  /**
   * Capacity over expected load. Slots per machine are sized from the target rate so the line
   * neither starves nor drowns; BRN gets no headroom, so it is the bottleneck where parts pile up.
   */
  readonly headroom: number;
}

const s = (
  min: number,
  mode: number,
  max: number,
  errorRate: number,
  errorCodes: string[],
  headroom = 1.4,
): StationProcess => ({
  cycleMs: [min * 1000, mode * 1000, max * 1000],
  errorRate,
  errorCodes,
  headroom,
});

export const PROCESSES: Readonly<Record<string, StationProcess>> = {
  RCV: s(5, 8, 20, 0.003, ['E03']),
  INS: s(20, 35, 60, 0.02, ['E31', 'E12']),
  DIE: s(40, 60, 100, 0.01, ['E12', 'E47']),
  BND: s(60, 100, 160, 0.05, ['E12', 'E31', 'E47']),
  ENC: s(15, 25, 45, 0.005, ['E47']),
  CUR: s(150, 220, 300, 0.004, ['E55']),
  BRN: s(240, 320, 400, 0.006, ['E55', 'E61'], 1.0),
  TST: s(60, 110, 200, 0.1, ['E12', 'E31', 'E47']),
  REW: s(120, 240, 400, 0.01, ['E31']),
  MRK: s(8, 12, 25, 0.003, ['E71']),
  PKG: s(20, 30, 50, 0.002, ['E81']),
  SHP: s(5, 8, 15, 0.001, ['E03']),
};

/** The line in flow order; REW is entered only from TST. */
export const FLOW = ['RCV', 'INS', 'DIE', 'BND', 'ENC', 'CUR', 'BRN', 'TST', 'MRK', 'PKG', 'SHP'] as const;

/** A reworked part fails test less often; after this many reworks a failing part is scrapped. */
export const RETEST_FAILURE_RATE = 0.04;
export const MAX_REWORKS = 3;

/** Time to carry a part to the next station, ms. */
export const TRANSIT_MS: readonly [min: number, max: number] = [1_000, 6_000];

/**
 * Where a part goes after leaving `station`; null = it leaves the line (shipped or scrapped).
 * Only a test failure changes the route; errors elsewhere are logged and the part moves on.
 */
export function nextStation(station: string, failed: boolean, reworks: number): string | null {
  if (station === 'TST' && failed) return reworks < MAX_REWORKS ? 'REW' : null;
  if (station === 'REW') return 'TST';
  const i = FLOW.indexOf(station as (typeof FLOW)[number]);
  return i >= 0 && i < FLOW.length - 1 ? FLOW[i + 1] : null;
}

export const meanCycleMs = (p: StationProcess): number => (p.cycleMs[0] + p.cycleMs[1] + p.cycleMs[2]) / 3;

/** Expected enter+exit events per part: two per flow station plus rework round trips. */
export const EVENTS_PER_PART = 2 * (FLOW.length + 2 * (PROCESSES.TST.errorRate / (1 - RETEST_FAILURE_RATE)));

/** Expected time a part spends on the line without queueing, ms. */
export const FLOW_TIME_MS =
  FLOW.reduce((t, st) => t + meanCycleMs(PROCESSES[st]), 0) + FLOW.length * ((TRANSIT_MS[0] + TRANSIT_MS[1]) / 2);

/** Concurrent parts one machine of `station` can hold (sockets of a tester, racks of an oven). */
export function slotsPerMachine(station: string, machines: number, partsPerMs: number): number {
  const p = PROCESSES[station];
  // Failed tests send about one part in nine through REW and back to TST once more.
  const visits = station === 'TST' ? 1.12 : station === 'REW' ? 0.12 : 1;
  return Math.max(1, Math.ceil((partsPerMs * visits * meanCycleMs(p) * p.headroom) / machines));
}
