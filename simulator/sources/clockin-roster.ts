import type { FloorMap } from '../floor.ts';
import { createRng, deriveSeed } from '../prng.ts';

/** Shifts as on the clock-in sheet (MYCPU.md): A 06–14, B 14–22, C 22–06 UTC, 8 h each. */
export const SHIFTS = ['A', 'B', 'C'] as const;
export type Shift = (typeof SHIFTS)[number];
export const SHIFT_START_HOUR: Readonly<Record<Shift, number>> = { A: 6, B: 14, C: 22 };
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const SHIFT_MS = 8 * HOUR_MS;

/** Start of a shift of the sheet day `day` (epoch ms of that day's UTC midnight). */
export const shiftStart = (day: number, shift: Shift): number => day + SHIFT_START_HOUR[shift] * HOUR_MS;
/** `YYYY-MM-DD` of a UTC midnight. */
export const isoDate = (day: number): string => new Date(day).toISOString().slice(0, 10);

export interface Employee {
  /** E0001 … E0096: the same ids the machining simulator uses as operators. */
  id: string;
  /** Personal data: only on the sheet, never in an event. */
  name: string;
  department: string;
  shift: Shift;
}

const FIRST = [
  'Ana',
  'Ben',
  'Chloé',
  'Dmitri',
  'Emeka',
  'Fatima',
  'Gus',
  'Hana',
  'Ivo',
  'Jun',
  'Kaia',
  'Luis',
  'Mira',
  'Nils',
  'Olu',
  'Priya',
  'Quinn',
  'Rosa',
  'Sami',
  'Tove',
  'Uma',
  'Viktor',
  'Wen',
  'Yara',
];
const LAST = [
  'Abara',
  'Berg',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Haddad',
  'Ishikawa',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Rossi',
  'Santos',
  'Tanaka',
  'Varga',
  'Weber',
  'Zhou',
];

/** Employees on the roster. */
export const ROSTER_SIZE = 96;

/**
 * The roster, aligned with the machining simulator's operators (line-model.ts: two operators per
 * machine and shift, `E{1 + (machineIndex·3 + shift)·2 + k}`): employee i works machine ⌊i/6⌋ on
 * shift ⌊i/2⌋ mod 3, in that machine's station's department. The ids past the machines go to the
 * side rooms' departments (tool crib, maintenance). Names are drawn from the seed.
 */
export function createRoster(floor: FloorMap, seed: number): Employee[] {
  const rng = createRng(deriveSeed(seed, 'clockin-roster'));
  const machineDepts = floor.stations.flatMap((s) => s.machines.map(() => s.department));
  const sideDepts = floor.stations.filter((s) => s.machines.length === 0).map((s) => s.department);
  const spare = sideDepts.length > 0 ? sideDepts : [...new Set(machineDepts)];
  const roster: Employee[] = [];
  for (let i = 0; i < ROSTER_SIZE; i++) {
    const onMachine = Math.floor(i / 6) < machineDepts.length;
    const department = onMachine
      ? machineDepts[Math.floor(i / 6)]
      : spare[(i - machineDepts.length * 6) % spare.length];
    const shift = SHIFTS[onMachine ? Math.floor(i / 2) % 3 : i % 3];
    roster.push({
      id: `E${String(i + 1).padStart(4, '0')}`,
      name: `${rng.pick(FIRST)} ${rng.pick(LAST)}`,
      department,
      shift,
    });
  }
  return roster;
}
