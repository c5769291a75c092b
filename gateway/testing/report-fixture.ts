import { FIXTURE_FLOOR, type FixturePairing, type FixtureRow } from '../../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../../serving/types.ts';

/**
 * A small plant for the report tests: the fixture's three flow stations plus a rework station
 * (REW, no place in the flow), one hour of station operations, the stock before it, repair
 * orders, tools with their life and one out now. Expected numbers in the tests follow from these rows.
 */
export const T0 = Date.UTC(2026, 10, 22, 7);
export const MIN = 60_000;
export const DAY = 86_400_000;

export const REW_STATION = {
  id: 'REW',
  name: 'Rework',
  zone: 'B',
  department: 'Quality',
  x: 70,
  y: 40,
  machines: ['REW-1'],
  flowIndex: null,
  idealCycleSec: null,
};

/** Filler stations (no flow place) up to `count` stations in all, for the N+1 test. */
export function fillerStations(count: number) {
  return Array.from({ length: Math.max(0, count - 4) }, (_, i) => ({
    id: `X${String(i + 1).padStart(2, '0')}`,
    name: `Extra ${i + 1}`,
    zone: 'C',
    department: 'Extra',
    x: 100 + i,
    y: 10,
    machines: [`X${i + 1}-1`],
    flowIndex: null,
    idealCycleSec: null,
  }));
}

export function reportEntities(stations = 4): EntityRow[] {
  const floor = [...FIXTURE_FLOOR.stations, REW_STATION, ...fillerStations(stations)];
  const order = (key: string, data: Record<string, unknown> | null): EntityRow => ({
    entity: 'order',
    key,
    version: '1',
    data,
    deleted: data === null,
  });
  return [
    ...floor.map((s) => ({ entity: 'station', key: s.id, version: '1', data: s, deleted: false })),
    { entity: 'tool', key: 'T001', version: '1', data: { type: 'drill' }, deleted: false },
    {
      entity: 'tool',
      key: 'T-002',
      version: '1',
      data: {
        tool_id: 'T-002',
        type: 'test socket',
        vendor: 'Kessler Tooling',
        rated_lifespan_hours: '600',
        use_cases: 'TST',
      },
      deleted: false,
    },
    {
      entity: 'tool',
      key: 'T-003',
      version: '1',
      data: {
        tool_id: 'T-003',
        type: 'bond head',
        vendor: 'Vantor Systems',
        rated_lifespan_hours: '100',
        use_cases: 'BND',
      },
      deleted: false,
    },
    order('R-1', {
      order_id: 'R-1',
      kind: 'repair',
      subject: 'CUT-1',
      severity: 1,
      status: 'completed',
      requested_at: T0 - 120 * MIN,
      completed_at: T0 - 60 * MIN,
      updated_at: T0 - 60 * MIN,
    }),
    order('R-2', {
      order_id: 'R-2',
      kind: 'repair',
      subject: 'WELD-1',
      severity: 2,
      status: 'confirmed',
      requested_at: T0 - 30 * MIN,
      completed_at: null,
      updated_at: T0 - 20 * MIN,
    }),
    order('P-1', {
      order_id: 'P-1',
      kind: 'purchase',
      subject: 'T-002',
      severity: null,
      status: 'received',
      requested_at: T0 - 180 * MIN,
      completed_at: T0 - 10 * MIN,
      updated_at: T0 - 10 * MIN,
    }),
    order('R-3', null),
  ];
}

export const REPORT_PAIRINGS: FixturePairing[] = [{ pairing: 'tool-use', key: 'T-003', startTime: T0 - 10 * MIN }];

const row = (metric: string, bucket: number, dims: Record<string, string>, n: number): FixtureRow => ({
  metric,
  bucket,
  dims,
  cells: [n],
});

export const REPORT_ROWS: FixtureRow[] = [
  // Before the hour: one part entered CUT, two entered REW and one left it.
  row('parts_entered', T0 - DAY, { station: 'CUT' }, 1),
  row('parts_entered', T0 - DAY, { station: 'REW' }, 2),
  row('parts_exited', T0 - DAY, { station: 'REW' }, 1),
  // The hour 07:00–08:00 UTC.
  row('parts_entered', T0, { station: 'CUT' }, 10),
  row('parts_entered', T0, { station: 'WELD' }, 6),
  row('parts_entered', T0 + MIN, { station: 'PAINT' }, 4),
  row('parts_entered', T0 + 2 * MIN, { station: 'REW' }, 3),
  row('parts_exited', T0, { station: 'CUT' }, 8),
  row('parts_exited', T0 + MIN, { station: 'WELD' }, 5),
  row('parts_exited', T0 + 2 * MIN, { station: 'PAINT' }, 4),
  row('parts_exited', T0 + 3 * MIN, { station: 'REW' }, 1),
  row('station_errors', T0, { station: 'CUT', errorCode: 'E1' }, 2),
  row('station_errors', T0 + MIN, { station: 'WELD', errorCode: 'E2' }, 1),
  // Repairs: severity 1, two completed taking 2 h together; severity 3, one of 30 min.
  row('repairs_completed', T0, { severity: '1' }, 2),
  row('repair_duration_ms', T0, { severity: '1' }, 120 * MIN),
  row('repairs_completed', T0 + 5 * MIN, { severity: '3' }, 1),
  row('repair_duration_ms', T0 + 5 * MIN, { severity: '3' }, 30 * MIN),
  // Tools: T-002 used 3 h, T-003 10 h; T-002 checked out twice in the hour.
  row('tool_use_ms', T0 - DAY, { tool: 'T-002' }, 3 * 60 * MIN),
  row('tool_use_ms', T0 - 2 * DAY, { tool: 'T-003' }, 10 * 60 * MIN),
  row('tool_checkouts', T0 + MIN, { tool: 'T-002' }, 2),
];
