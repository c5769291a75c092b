import type { EntityRow } from '../../serving/types.ts';

/** A station as the ingested floor map describes it (entity `station`). */
export interface StationRecord {
  id: string;
  name: string;
  zone: string;
  department: string;
  x: number;
  y: number;
  machines: string[];
  /** Place in the flow (0 = first); null for rework and side rooms. */
  flowIndex: number | null;
  /** Best-practice cycle time, seconds; null when not declared. */
  idealCycleSec: number | null;
}

/** The floor, learned from ingested data: stations in flow order, then the others by id. */
export interface Directory {
  stations: StationRecord[];
  station(id: string): StationRecord | undefined;
  /** The station a machine belongs to. */
  stationOfMachine(machine: string): StationRecord | undefined;
  machines: string[];
  zones: string[];
  departments: string[];
  /** Flow stations in order (first = where parts start, last = where they leave the line). */
  flow: StationRecord[];
}

const str = (v: unknown, fallback: string) => (typeof v === 'string' && v.length > 0 ? v : fallback);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A station record from an entity row; malformed fields get neutral values, never a crash. */
export function stationFromEntity(row: EntityRow): StationRecord {
  const d = (row.data ?? {}) as Record<string, unknown>;
  return {
    id: row.key,
    name: str(d.name, row.key),
    zone: str(d.zone, ''),
    department: str(d.department, ''),
    x: num(d.x) ?? 0,
    y: num(d.y) ?? 0,
    machines: Array.isArray(d.machines) ? d.machines.filter((m): m is string => typeof m === 'string') : [],
    flowIndex: num(d.flowIndex),
    idealCycleSec: num(d.idealCycleSec),
  };
}

export function createDirectory(rows: readonly EntityRow[]): Directory {
  const stations = rows
    .filter((r) => !r.deleted && r.data)
    .map(stationFromEntity)
    .sort((a, b) => (a.flowIndex ?? Infinity) - (b.flowIndex ?? Infinity) || a.id.localeCompare(b.id));
  const byId = new Map(stations.map((s) => [s.id, s]));
  const byMachine = new Map(stations.flatMap((s) => s.machines.map((m) => [m, s] as const)));
  const uniq = (xs: string[]) => [...new Set(xs.filter(Boolean))].sort();
  return {
    stations,
    station: (id) => byId.get(id),
    stationOfMachine: (m) => byMachine.get(m),
    machines: stations.flatMap((s) => s.machines),
    zones: uniq(stations.map((s) => s.zone)),
    departments: uniq(stations.map((s) => s.department)),
    flow: stations.filter((s) => s.flowIndex !== null),
  };
}
