import { pathToFileURL } from 'node:url';
import { fixtureToken, startFixtureStack, type FixtureStack } from '../../gateway/testing/start-fixture-stack.ts';
import { createDashboardRoutes } from '../../gateway/dashboard-routes.ts';
import { FIXTURE_ENTITIES, type FixtureRow } from '../../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../../serving/types.ts';
import type { AlertThresholds } from '../../resolvers/alerts/alert-types.ts';
type StackOptions = Parameters<typeof startFixtureStack>[1];

/** The fixture day the dashboard tests look at: 2026-11-22 00:00–08:00 UTC (fixture asOf is 08:00). */
export const DAY_FROM = Date.UTC(2026, 10, 22, 0);
export const DAY_TO = Date.UTC(2026, 10, 22, 8);

export const TEST_THRESHOLDS: AlertThresholds = {
  zoneMaxC: 40,
  noExitMinutes: 15,
  connectorLag: 10_000,
  stallSeconds: 300,
};

/**
 * Minute rows of the production metrics for the three fixture stations over the fixture day: a
 * deterministic pattern (CUT busiest, PAINT slowest, errors every 7th minute) so WIP differs by
 * station and every chart has points.
 */
export function productionRows(from = DAY_FROM, to = DAY_TO): FixtureRow[] {
  const rows: FixtureRow[] = [];
  // [station, entered per minute, exited per minute, one more exit every n-th minute]: WIP grows fastest at PAINT.
  const stations = [
    ['CUT', 6, 5, 1],
    ['WELD', 5, 4, 2],
    ['PAINT', 4, 3, 5],
  ] as const;
  for (let t = from; t < to; t += 60_000) {
    const m = (t - from) / 60_000;
    for (const [station, entered, exited, every] of stations) {
      const out = exited + (m % every === 0 ? 1 : 0);
      rows.push({ metric: 'parts_entered', bucket: t, dims: { station }, cells: [entered] });
      rows.push({ metric: 'parts_exited', bucket: t, dims: { station }, cells: [out] });
      // A histogram's cells: count, sum, then one count per bucket (8 bounds + overflow).
      const cycleMs = station === 'PAINT' ? 50_000 : 25_000;
      const b = station === 'PAINT' ? 3 : 1;
      rows.push({
        metric: 'cycle_time',
        bucket: t,
        dims: { station },
        cells: [out, out * cycleMs, ...Array.from({ length: 9 }, (_, i) => (i === b ? out : 0))],
      });
      if (m % 7 === 0)
        rows.push({
          metric: 'station_errors',
          bucket: t,
          dims: { station, errorCode: m % 2 ? 'E12' : 'E40' },
          cells: [1],
        });
    }
  }
  return rows;
}

/**
 * Minute rows of the energy metrics over the fixture day: each meter of the fixture floor a fixed
 * Wh per minute (WELD's the most, PAINT's the least), and a heat reading per zone every 10 minutes.
 */
export function energyRows(from = DAY_FROM, to = DAY_TO): FixtureRow[] {
  const rows: FixtureRow[] = [];
  const meters = [
    ['CUT-1', 12],
    ['CUT-2', 8],
    ['WELD-1', 25],
    ['PAINT-1', 5],
  ] as const;
  for (let t = from; t < to; t += 60_000) {
    const m = (t - from) / 60_000;
    for (const [machine, wh] of meters) rows.push({ metric: 'energy_wh', bucket: t, dims: { machine }, cells: [wh] });
    if (m % 10 === 0)
      for (const [zone, centiC] of [
        ['A', 2600 + (m % 70) * 10],
        ['B', 2200 + (m % 30) * 10],
      ] as const) {
        rows.push({ metric: 'zone_temp_count', bucket: t, dims: { zone }, cells: [1] });
        rows.push({ metric: 'zone_temp_sum', bucket: t, dims: { zone }, cells: [centiC] });
        rows.push({ metric: 'zone_temp_max', bucket: t, dims: { zone }, cells: [centiC] });
      }
  }
  return rows;
}

/**
 * The fixture stack (auth on: fixture tokens) with the dashboard served at `/` (the built
 * dashboard/dist), and the alert rules at TEST_THRESHOLDS evaluated every 500 ms. `rows` and
 * `entities` are read in place: a test that changes them sees the change in the next answer.
 */
export async function startDashboardStack(
  gatewayOptions: StackOptions = {},
  rows = [...productionRows(), ...energyRows()],
  entities: EntityRow[] = [...FIXTURE_ENTITIES],
): Promise<FixtureStack> {
  return startFixtureStack(
    rows,
    { routes: createDashboardRoutes(), ...gatewayOptions },
    { entities, alerts: { alertThresholds: TEST_THRESHOLDS, alertEveryMs: 500 } },
  );
}

// `node --import tsx dashboard/testing/start-dashboard-stack.ts`: a stack to look at by hand.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stack = await startDashboardStack({ port: Number(process.env.PORT ?? 0) });
  stack.setReady(true);
  console.log(
    `READY ${stack.gateway.url.replace(/graphql$/, '')}#/production?from=${new Date(DAY_FROM).toISOString()}&to=${new Date(DAY_TO).toISOString()}`,
  );
  console.log(`TOKEN ${fixtureToken()}`);
}
