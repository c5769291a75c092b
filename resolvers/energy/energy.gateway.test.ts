import { test, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { startFixtureStack, type FixtureStack } from '../../gateway/testing/start-fixture-stack.ts';
import type { FixtureRow } from '../../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../../serving/types.ts';
import { assertBadInput, gql, subscribe, wsClient } from '../testing/gateway-client.ts';

// Fixture floor (serving/testing/fixture-serving.ts): CUT (CUT-1, CUT-2; zone A, Machining; flow 0),
// WELD (WELD-1; A, Machining; 1), PAINT (PAINT-1; B, Finishing; 2, the last flow station).
const T0 = Date.UTC(2026, 10, 22, 7);
const MIN = 60_000;
const H = 3_600_000;
const FROM = '2026-11-22T07:00:00.000Z';
const TO = '2026-11-22T09:00:00.000Z';
const NOW_MINUTE = Math.floor(Date.now() / MIN) * MIN;
const row = (metric: string, bucket: number, dims: Record<string, string>, ...cells: number[]): FixtureRow => ({
  metric,
  bucket,
  dims,
  cells,
});
const ROWS: FixtureRow[] = [
  row('energy_wh', T0, { machine: 'CUT-1' }, 100),
  row('energy_wh', T0 + H, { machine: 'CUT-1' }, 30),
  row('energy_wh', T0, { machine: 'CUT-2' }, 50),
  row('energy_wh', T0, { machine: 'WELD-1' }, 200),
  row('energy_wh', T0 + MIN, { machine: 'PAINT-1' }, 120),
  row('energy_wh', T0, { machine: 'X-9' }, 10), // a meter the floor map does not know
  row('energy_wh', T0 + 2 * H, { machine: 'CUT-1' }, 999), // after the range
  row('parts_exited', T0, { station: 'CUT' }, 5),
  row('parts_exited', T0 + H, { station: 'CUT' }, 3),
  row('parts_exited', T0, { station: 'WELD' }, 4),
  row('parts_exited', T0, { station: 'PAINT' }, 2),
  row('parts_exited', T0 + H, { station: 'PAINT' }, 2),
  // Heat: zone A two readings 21.00 and 23.50 °C at 07:00, one 30.00 at 08:00; zone B one 40.00 at 07:00.
  row('zone_temp_count', T0, { zone: 'A' }, 2),
  row('zone_temp_sum', T0, { zone: 'A' }, 4450),
  row('zone_temp_max', T0, { zone: 'A' }, 2350),
  row('zone_temp_count', T0 + H, { zone: 'A' }, 1),
  row('zone_temp_sum', T0 + H, { zone: 'A' }, 3000),
  row('zone_temp_max', T0 + H, { zone: 'A' }, 3000),
  row('zone_temp_count', T0, { zone: 'B' }, 1),
  row('zone_temp_sum', T0, { zone: 'B' }, 4000),
  row('zone_temp_max', T0, { zone: 'B' }, 4000),
  // Today, for the subscriptions' snapshots.
  row('energy_wh', NOW_MINUTE, { machine: 'CUT-1' }, 40),
  row('energy_wh', NOW_MINUTE, { machine: 'WELD-1' }, 60),
  row('zone_temp_count', NOW_MINUTE, { zone: 'A' }, 2),
  row('zone_temp_sum', NOW_MINUTE, { zone: 'A' }, 5000),
  row('zone_temp_max', NOW_MINUTE, { zone: 'A' }, 2600),
];

let stack: FixtureStack;
before(async () => {
  stack = await startFixtureStack(ROWS);
});
after(async () => {
  await stack?.close();
});

const fig = (wh: number, parts: number | null) => ({
  wh,
  kwh: wh / 1000,
  partsCompleted: parts,
  whPerPart: parts ? wh / parts : null,
});

test("energy by machine: Wh, kWh, parts of the machine's station, Wh per part, total and line", async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!) {
    energy(from: $from, to: $to) {
      from to grain timeZone
      rows { bucket { start } machine { id } station { id } figures { wh kwh partsCompleted whPerPart } }
      total { wh kwh partsCompleted whPerPart } line { wh kwh partsCompleted whPerPart } freshness { asOf }
    }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const e = body.data.energy;
  assert.deepEqual([e.from, e.to, e.grain, e.timeZone], [FROM, TO, 'HOUR', 'UTC']);
  assert.deepEqual(e.rows, [
    { bucket: null, machine: { id: 'CUT-1' }, station: null, figures: fig(130, 8) },
    { bucket: null, machine: { id: 'CUT-2' }, station: null, figures: fig(50, 8) },
    { bucket: null, machine: { id: 'WELD-1' }, station: null, figures: fig(200, 4) },
    { bucket: null, machine: { id: 'PAINT-1' }, station: null, figures: fig(120, 4) },
    { bucket: null, machine: { id: 'X-9' }, station: null, figures: fig(10, 0) },
  ]);
  assert.deepEqual(e.total, fig(510, 16));
  assert.deepEqual(e.line, fig(510, 4), 'all energy over the parts that left PAINT');
  assert.equal(e.freshness.asOf, '2026-11-22T08:00:00.000Z');
});

test('energy grouped by time and department, filtered, ordered and cut to the top rows', async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!) {
    byDept: energy(from: $from, to: $to, groupBy: [TIME, DEPARTMENT]) { rows { bucket { start end label } department { id } figures { wh partsCompleted } } }
    zoneA: energy(from: $from, to: $to, zones: ["A"], groupBy: [STATION], orderBy: { field: WH_PER_PART, direction: DESC }, top: 1) {
      rows { station { id name } figures { wh whPerPart } } total { wh partsCompleted }
    }
    timeOnly: energy(from: $from, to: $to, machines: ["CUT-1"], groupBy: [TIME]) { rows { bucket { start } figures { wh partsCompleted whPerPart } } total { wh partsCompleted } }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const b = (h: number) => ({
    start: new Date(T0 + h * H).toISOString(),
    end: new Date(T0 + (h + 1) * H).toISOString(),
    label: new Date(T0 + h * H).toISOString(),
  });
  const labels = body.data.byDept.rows.map((r: any) => r.bucket.label);
  assert.equal(labels.length, 4);
  assert.deepEqual(
    body.data.byDept.rows.map((r: any) => ({ ...r, bucket: { start: r.bucket.start, end: r.bucket.end } })),
    [
      { bucket: { start: b(0).start, end: b(0).end }, department: { id: '' }, figures: { wh: 10, partsCompleted: 0 } },
      {
        bucket: { start: b(0).start, end: b(0).end },
        department: { id: 'Finishing' },
        figures: { wh: 120, partsCompleted: 2 },
      },
      {
        bucket: { start: b(0).start, end: b(0).end },
        department: { id: 'Machining' },
        figures: { wh: 350, partsCompleted: 9 },
      },
      {
        bucket: { start: b(1).start, end: b(1).end },
        department: { id: 'Machining' },
        figures: { wh: 30, partsCompleted: 3 },
      },
    ],
  );
  // Zone A: CUT 180 Wh / 8 parts = 22.5, WELD 200 / 4 = 50 → WELD first.
  assert.deepEqual(body.data.zoneA.rows, [
    { station: { id: 'WELD', name: 'Welding' }, figures: { wh: 200, whPerPart: 50 } },
  ]);
  assert.deepEqual(body.data.zoneA.total, { wh: 380, partsCompleted: 12 });
  // Grouped by time only, a row covers no station: no parts, no Wh per part.
  assert.deepEqual(body.data.timeOnly.rows, [
    { bucket: { start: b(0).start }, figures: { wh: 100, partsCompleted: null, whPerPart: null } },
    { bucket: { start: b(1).start }, figures: { wh: 30, partsCompleted: null, whPerPart: null } },
  ]);
  assert.deepEqual(body.data.timeOnly.total, { wh: 130, partsCompleted: 8 });
});

test('one query across subgraphs: departments with stations (production), energy and attendance', async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!) {
    departments { id stations { id } energy(from: $from, to: $to) { kwh whPerPart } attendance(from: $from, to: $to) { present } }
    zones { id energy(from: $from, to: $to) { wh } temperature(from: $from, to: $to) { readings meanC maxC } }
    machines(stations: ["CUT"]) { id energy(from: $from, to: $to) { wh partsCompleted } station { id } }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.deepEqual(body.data.departments, [
    { id: 'Finishing', stations: [{ id: 'PAINT' }], energy: { kwh: 0.12, whPerPart: 30 }, attendance: { present: 0 } },
    {
      id: 'Machining',
      stations: [{ id: 'CUT' }, { id: 'WELD' }],
      energy: { kwh: 0.38, whPerPart: 380 / 12 },
      attendance: { present: 0 },
    },
  ]);
  assert.deepEqual(body.data.zones, [
    { id: 'A', energy: { wh: 380 }, temperature: { readings: 3, meanC: 7450 / 3 / 100, maxC: 30 } },
    { id: 'B', energy: { wh: 120 }, temperature: { readings: 1, meanC: 40, maxC: 40 } },
  ]);
  assert.deepEqual(body.data.machines, [
    { id: 'CUT-1', energy: { wh: 130, partsCompleted: 8 }, station: { id: 'CUT' } },
    { id: 'CUT-2', energy: { wh: 50, partsCompleted: 8 }, station: { id: 'CUT' } },
  ]);
});

test('zone temperatures: mean and max per zone and hour, or per zone', async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!) {
    heat: zoneTemperatures(from: $from, to: $to) { rows { bucket { start } zone { id } figures { readings meanC maxC } } freshness { asOf } }
    perZone: zoneTemperatures(from: $from, to: $to, zones: ["A"], groupBy: [ZONE]) { rows { bucket { start } zone { id } figures { readings meanC maxC } } }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.deepEqual(body.data.heat.rows, [
    { bucket: { start: FROM }, zone: { id: 'A' }, figures: { readings: 2, meanC: 22.25, maxC: 23.5 } },
    { bucket: { start: FROM }, zone: { id: 'B' }, figures: { readings: 1, meanC: 40, maxC: 40 } },
    { bucket: { start: '2026-11-22T08:00:00.000Z' }, zone: { id: 'A' }, figures: { readings: 1, meanC: 30, maxC: 30 } },
  ]);
  assert.deepEqual(body.data.perZone.rows, [
    { bucket: null, zone: { id: 'A' }, figures: { readings: 3, meanC: 7450 / 3 / 100, maxC: 30 } },
  ]);
});

test('unknown machine, zone, department, station or time zone is BAD_USER_INPUT', async () => {
  const args = `from: "${FROM}", to: "${TO}"`;
  await assertBadInput(stack, `{ energy(${args}, machines: ["NOPE-1"]) { total { wh } } }`, /unknown machine "NOPE-1"/);
  await assertBadInput(stack, `{ energy(${args}, zones: ["Q"]) { total { wh } } }`, /unknown zone "Q"/);
  await assertBadInput(
    stack,
    `{ energy(${args}, departments: ["Nope"]) { total { wh } } }`,
    /unknown department "Nope"/,
  );
  await assertBadInput(stack, `{ energy(${args}, stations: ["NOPE"]) { total { wh } } }`, /unknown station "NOPE"/);
  await assertBadInput(
    stack,
    `{ energy(${args}, grain: DAY, timeZone: "Mars/Olympus") { total { wh } } }`,
    /unknown time zone "Mars\/Olympus"/,
  );
  await assertBadInput(
    stack,
    `{ zoneTemperatures(${args}, zones: ["Q"]) { rows { zone { id } } } }`,
    /unknown zone "Q"/,
  );
  await assertBadInput(stack, `{ energy(${args}, top: 0) { total { wh } } }`, /`top` must be between/);
  await assertBadInput(stack, `{ energy(from: "${TO}", to: "${FROM}") { total { wh } } }`, /must be before/);
});

test('energyUpdates: snapshot of today per machine (filtered), deltas, resume after a cursor; unknown machine refused', async () => {
  const client = wsClient(stack);
  const query = `subscription($after: String) { energyUpdates(machines: ["CUT-1"], after: $after) { kind cursor items { machine bucket wh } } }`;
  try {
    const live = subscribe(client, query, 'energyUpdates');
    const snap = await live.next();
    const today = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString();
    assert.deepEqual(snap, { kind: 'SNAPSHOT', cursor: null, items: [{ machine: 'CUT-1', bucket: today, wh: 40 }] });
    await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
    const d1 = stack.serving.push([
      { metric: 'energy_wh', bucket: NOW_MINUTE, dims: { machine: 'CUT-1' }, cells: [5] },
      { metric: 'energy_wh', bucket: NOW_MINUTE, dims: { machine: 'WELD-1' }, cells: [7] },
      { metric: 'parts_exited', bucket: NOW_MINUTE, dims: { station: 'CUT' }, cells: [1] },
    ]);
    assert.deepEqual(await live.next(), {
      kind: 'DELTA',
      cursor: d1.cursor,
      items: [{ machine: 'CUT-1', bucket: new Date(NOW_MINUTE).toISOString(), wh: 5 }],
    });
    await live.close();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);

    const d2 = stack.serving.push([
      { metric: 'energy_wh', bucket: NOW_MINUTE + MIN, dims: { machine: 'CUT-1' }, cells: [9] },
    ]);
    const resumed = subscribe(client, query, 'energyUpdates', { after: d1.cursor });
    assert.deepEqual(await resumed.next(), {
      kind: 'DELTA',
      cursor: d2.cursor,
      items: [{ machine: 'CUT-1', bucket: new Date(NOW_MINUTE + MIN).toISOString(), wh: 9 }],
    });
    await resumed.close();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);

    const bad = subscribe(client, 'subscription { energyUpdates(machines: ["NOPE-1"]) { kind } }', 'energyUpdates');
    const err = await bad.next();
    assert.equal(err.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(err));
    assert.match(err.errors[0].message, /unknown machine "NOPE-1"/);
  } finally {
    await client.dispose();
  }
});

test('zoneTemperatureUpdates: snapshot of the last hour per zone, deltas per zone and minute, resume', async () => {
  const client = wsClient(stack);
  const query = `subscription($after: String) { zoneTemperatureUpdates(zones: ["A"], after: $after) { kind cursor items { zone readings sumCentiC maxC } } }`;
  try {
    const live = subscribe(client, query, 'zoneTemperatureUpdates');
    const snap = await live.next();
    assert.equal(snap.kind, 'SNAPSHOT');
    assert.deepEqual(snap.items, [{ zone: 'A', readings: 2, sumCentiC: 5000, maxC: 26 }]);
    await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
    const heat = (zone: string, count: number, sum: number, max: number) =>
      ['zone_temp_count', 'zone_temp_sum', 'zone_temp_max'].map((metric, i) => ({
        metric,
        bucket: NOW_MINUTE,
        dims: { zone },
        cells: [[count, sum, max][i]],
      }));
    const d1 = stack.serving.push([...heat('A', 2, 4400, 2300), ...heat('B', 1, 3000, 3000)]);
    assert.deepEqual(await live.next(), {
      kind: 'DELTA',
      cursor: d1.cursor,
      items: [{ zone: 'A', readings: 2, sumCentiC: 4400, maxC: 23 }],
    });
    await live.close();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
    const d2 = stack.serving.push(heat('A', 1, 2500, 2500));
    const resumed = subscribe(client, query, 'zoneTemperatureUpdates', { after: d1.cursor });
    assert.deepEqual(await resumed.next(), {
      kind: 'DELTA',
      cursor: d2.cursor,
      items: [{ zone: 'A', readings: 1, sumCentiC: 2500, maxC: 25 }],
    });
    await resumed.close();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
    const bad = subscribe(
      client,
      'subscription { zoneTemperatureUpdates(zones: ["Q"]) { kind } }',
      'zoneTemperatureUpdates',
    );
    assert.equal((await bad.next()).errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  } finally {
    await client.dispose();
  }
});

test('no N+1: energy of 14 stations, their machines, zones and departments costs the reads of one station', async () => {
  const ids = Array.from({ length: 14 }, (_, i) => `S${String(i).padStart(2, '0')}`);
  const entities: EntityRow[] = ids.map((id, i) => ({
    entity: 'station',
    key: id,
    version: '1',
    deleted: false,
    data: {
      id,
      name: id,
      zone: `Z${i % 4}`,
      department: `D${i % 3}`,
      x: i,
      y: 0,
      machines: [`${id}-1`, `${id}-2`],
      flowIndex: i,
      idealCycleSec: 30,
    },
  }));
  const rows = ids.flatMap((id, i) => [
    row('energy_wh', T0, { machine: `${id}-1` }, 10 + i),
    row('parts_exited', T0, { station: id }, 1 + i),
  ]);
  const big = await startFixtureStack(rows, {}, { entities });
  try {
    const reads = async (stations: string) => {
      const before = big.serving.seriesCalls.length;
      const { body } = await gql(
        big,
        `query($from: DateTime!, $to: DateTime!) {
        stations${stations} { id energy(from: $from, to: $to) { wh partsCompleted } machines { id energy(from: $from, to: $to) { wh } } zone { id energy(from: $from, to: $to) { wh } } department { id energy(from: $from, to: $to) { wh } } }
      }`,
        { from: FROM, to: TO },
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return { calls: big.serving.seriesCalls.length - before, stations: body.data.stations };
    };
    const one = await reads('(zones: ["Z3"], departments: ["D0"])'); // S03 alone
    const all = await reads('');
    assert.equal(all.stations.length, 14);
    assert.deepEqual(all.stations[3].energy, { wh: 13, partsCompleted: 4 });
    assert.deepEqual(
      all.stations[3].machines.map((m: any) => m.energy.wh),
      [13, 0],
    );
    assert.equal(
      all.stations[3].zone.energy.wh,
      [3, 7, 11].reduce((s, i) => s + 10 + i, 0),
    );
    assert.equal(all.calls, one.calls, `14 stations made ${all.calls} serving reads, one station ${one.calls}`);
    // Two reads (energy, parts) per subgraph request; the gateway asks the energy subgraph once per entity level.
    assert.ok(one.calls <= 8, `${one.calls} serving reads`);
  } finally {
    await big.close();
  }
});
