import { test, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { startFixtureStack, type FixtureStack } from '../../gateway/testing/start-fixture-stack.ts';
import { FIXTURE_ENTITIES, type FixtureRow } from '../../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../../serving/types.ts';
import { assertBadInput, gql, subscribe, wsClient } from '../testing/gateway-client.ts';

// Clock-in rows are bucketed at their shift's start (UTC fixture calendar: A 06:00, B 14:00, C 22:00).
const DAY = Date.UTC(2026, 10, 22);
const H = 3_600_000;
const MIN = 60_000;
const A = DAY + 6 * H;
const B = DAY + 14 * H;
const FROM = '2026-11-22T00:00:00.000Z';
const TO = '2026-11-23T00:00:00.000Z';
const TODAY = Math.floor(Date.now() / 86_400_000) * 86_400_000;
const row = (metric: string, bucket: number, dims: Record<string, string>, ...cells: number[]): FixtureRow => ({
  metric,
  bucket,
  dims,
  cells,
});
const ROWS: FixtureRow[] = [
  row('attendance', A, { department: 'Machining', shift: 'A' }, 3),
  row('absent_by_department', A, { department: 'Machining', shift: 'A' }, 1),
  row('minutes_worked', A, { department: 'Machining', shift: 'A' }, 1440),
  row('attendance', B, { department: 'Finishing', shift: 'B' }, 2),
  row('absent_by_department', B, { department: 'Finishing', shift: 'B' }, 2),
  row('minutes_worked', B, { department: 'Finishing', shift: 'B' }, 900),
  row('absences', A, { reason: 'Sick' }, 1),
  row('absences', B, { reason: 'Vacation' }, 2),
  row('absences', B, { reason: 'Training' }, 1),
  row('absences', B, { reason: 'Training' }, -1), // corrected away
  row('worker_minutes', A, { employee: 'E0001', department: 'Machining', shift: 'A' }, 480),
  row('worker_minutes', A, { employee: 'E0002', department: 'Machining', shift: 'A' }, 480),
  row('worker_minutes', A, { employee: 'E0003', department: 'Machining', shift: 'A' }, 480),
  row('worker_minutes', B, { employee: 'E0004', department: 'Finishing', shift: 'B' }, 450),
  row('worker_minutes', B, { employee: 'E0005', department: 'Finishing', shift: 'B' }, 450),
  row('operator_task_ms', A + H, { operator: 'E0001', station: 'CUT' }, 3_600_000),
  row('operator_task_ms', A + 2 * H, { operator: 'E0001', station: 'WELD' }, 1_800_000),
  row('operator_task_ms', A + H, { operator: 'E0002', station: 'CUT' }, 7_200_000),
  row('operator_task_ms', B + H, { operator: 'E0009', station: 'PAINT' }, 900_000), // operated, no closed clock-in row
  // Today, for the subscription's snapshot.
  row('attendance', TODAY + 6 * H, { department: 'Machining', shift: 'A' }, 4),
  row('minutes_worked', TODAY + 6 * H, { department: 'Machining', shift: 'A' }, 120),
  row('attendance', TODAY + 6 * H, { department: 'Finishing', shift: 'A' }, 1),
];

/** Workers as the clock-in connector keeps them; E0003, E0005 and E0009 were never named on a sheet. */
const worker = (key: string, name: string, version = '1'): EntityRow => ({
  entity: 'worker',
  key,
  version,
  deleted: false,
  data: { name, department: 'Machining' },
});
const ENTITIES: EntityRow[] = [
  ...FIXTURE_ENTITIES,
  worker('E0001', 'Ana Berg-Lund', '2'),
  worker('E0002', 'Ben Castillo'),
  worker('E0004', 'Cleo Diaz'),
];

let stack: FixtureStack;
before(async () => {
  stack = await startFixtureStack(ROWS, {}, { entities: ENTITIES });
});
after(async () => {
  await stack?.close();
});

const att = (present: number, absent: number, minutes: number) => ({
  present,
  absent,
  attendanceRate: present + absent > 0 ? present / (present + absent) : null,
  hoursWorked: minutes / 60,
});

test('attendance by department and shift, by time, and the total', async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!) {
    attendance(from: $from, to: $to) {
      from to grain timeZone rows { bucket { start } department { id } shift { id start } figures { present absent attendanceRate hoursWorked } }
      total { present absent attendanceRate hoursWorked } freshness { asOf }
    }
    byShift: attendance(from: $from, to: $to, grain: SHIFT, groupBy: [TIME], shifts: ["A"]) { rows { bucket { start end label shift } figures { present hoursWorked } } }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const a = body.data.attendance;
  assert.deepEqual([a.from, a.to, a.grain, a.timeZone], [FROM, TO, 'DAY', 'UTC']);
  assert.deepEqual(a.rows, [
    { bucket: null, department: { id: 'Finishing' }, shift: { id: 'B', start: '14:00' }, figures: att(2, 2, 900) },
    { bucket: null, department: { id: 'Machining' }, shift: { id: 'A', start: '06:00' }, figures: att(3, 1, 1440) },
  ]);
  assert.deepEqual(a.total, att(5, 3, 2340));
  assert.equal(a.freshness.asOf, '2026-11-22T08:00:00.000Z');
  assert.deepEqual(body.data.byShift.rows, [
    {
      bucket: { start: new Date(A).toISOString(), end: new Date(B).toISOString(), label: '2026-11-22 A', shift: 'A' },
      figures: { present: 3, hoursWorked: 24 },
    },
  ]);
});

test('absences by reason, largest first, retractions netted out; top and by time', async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!) {
    all: absences(from: $from, to: $to) { rows { bucket { start } reason count } total freshness { asOf } }
    top: absences(from: $from, to: $to, top: 1) { rows { reason count } total }
    byTime: absences(from: $from, to: $to, grain: SHIFT, byTime: true, reasons: ["Sick", "Vacation"]) { rows { bucket { label } reason count } total }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.deepEqual(body.data.all.rows, [
    { bucket: null, reason: 'Vacation', count: 2 },
    { bucket: null, reason: 'Sick', count: 1 },
  ]);
  assert.equal(body.data.all.total, 3);
  assert.deepEqual(body.data.top, { rows: [{ reason: 'Vacation', count: 2 }], total: 3 });
  assert.deepEqual(body.data.byTime.rows, [
    { bucket: { label: '2026-11-22 A' }, reason: 'Sick', count: 1 },
    { bucket: { label: '2026-11-22 B' }, reason: 'Vacation', count: 2 },
  ]);
});

test('workers: hours worked, task hours and utilisation as a Relay connection; the employee id only inside `worker`', async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!, $after: String) {
    workers(from: $from, to: $to, orderBy: { field: UTILISATION }, first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { worker { id name department { id } shift { id } } department { id } shift { id } hoursWorked taskHours utilisation } }
    }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const w = body.data.workers;
  assert.equal(w.totalCount, 6);
  assert.equal(w.pageInfo.hasNextPage, true);
  assert.deepEqual(
    w.edges.map((e: any) => e.node),
    [
      {
        worker: { id: 'E0002', name: 'Ben Castillo', department: { id: 'Machining' }, shift: { id: 'A' } },
        department: { id: 'Machining' },
        shift: { id: 'A' },
        hoursWorked: 8,
        taskHours: 2,
        utilisation: 0.25,
      },
      {
        worker: { id: 'E0001', name: 'Ana Berg-Lund', department: { id: 'Machining' }, shift: { id: 'A' } },
        department: { id: 'Machining' },
        shift: { id: 'A' },
        hoursWorked: 8,
        taskHours: 1.5,
        utilisation: 0.1875,
      },
    ],
  );
  // A cursor must not carry the employee id (anyone can decode it).
  for (const e of w.edges) assert.doesNotMatch(Buffer.from(e.cursor, 'base64url').toString(), /E000/);
  const rest = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!, $after: String) {
    workers(from: $from, to: $to, orderBy: { field: UTILISATION }, first: 10, after: $after) { pageInfo { hasNextPage } edges { node { worker { id name } department { id } shift { id } hoursWorked taskHours utilisation } } }
  }`,
    { from: FROM, to: TO, after: w.pageInfo.endCursor },
  );
  assert.equal(rest.body.errors, undefined, JSON.stringify(rest.body.errors));
  assert.deepEqual(
    rest.body.data.workers.edges.map((e: any) => [
      e.node.worker.id,
      e.node.worker.name,
      e.node.department?.id ?? null,
      e.node.shift?.id ?? null,
      e.node.hoursWorked,
      e.node.taskHours,
      e.node.utilisation,
    ]),
    [
      ['E0003', null, 'Machining', 'A', 8, 0, 0], // never named on a sheet
      ['E0004', 'Cleo Diaz', 'Finishing', 'B', 7.5, 0, 0],
      ['E0005', null, 'Finishing', 'B', 7.5, 0, 0],
      ['E0009', null, 'Finishing', null, 0, 0.25, null], // department of the station operated; no hours, no utilisation
    ],
  );
  assert.equal(rest.body.data.workers.pageInfo.hasNextPage, false);
  // Without pii:read the figures still come, the worker does not.
  const noPii = await gql(
    stack,
    `{ workers(from: "${FROM}", to: "${TO}", first: 1) { edges { node { hoursWorked worker { id } } } } }`,
    {},
    ['workforce:read'],
  );
  assert.deepEqual(noPii.body.data.workers.edges, [{ node: { hoursWorked: 8, worker: null } }]);
  assert.deepEqual(
    noPii.body.errors.map((e: any) => [e.extensions.code, e.message]),
    [['FORBIDDEN', 'WorkerFigures.worker needs scope pii:read']],
  );
  // Nor does the name through the generic entities: ops:read alone gets no worker data.
  const opsOnly = await gql(
    stack,
    `{ entities(entity: "worker") { key data } personal: entities(entity: "worker") { key personalData } }`,
    {},
    ['ops:read'],
  );
  assert.deepEqual(
    opsOnly.body.data?.entities?.map((e: any) => [e.key, e.data]),
    [
      ['E0001', null],
      ['E0002', null],
      ['E0004', null],
    ],
  );
  assert.deepEqual(
    opsOnly.body.errors.map((e: any) => e.extensions.code),
    ['FORBIDDEN'],
    JSON.stringify(opsOnly.body.errors),
  );
  assert.doesNotMatch(JSON.stringify(opsOnly.body), /Berg|Castillo|Diaz/);
  const withPii = await gql(stack, `{ entities(entity: "worker") { key data personalData } }`, {}, [
    'ops:read',
    'pii:read',
  ]);
  assert.deepEqual(
    withPii.body.data.entities.map((e: any) => [e.key, e.data, JSON.parse(e.personalData)]),
    [
      ['E0001', null, { name: 'Ana Berg-Lund', department: 'Machining' }],
      ['E0002', null, { name: 'Ben Castillo', department: 'Machining' }],
      ['E0004', null, { name: 'Cleo Diaz', department: 'Machining' }],
    ],
  );
  const finishing = await gql(
    stack,
    `{ workers(from: "${FROM}", to: "${TO}", departments: ["Finishing"], shifts: ["B"]) { totalCount edges { node { hoursWorked } } } }`,
  );
  assert.deepEqual(finishing.body.data.workers, {
    totalCount: 2,
    edges: [{ node: { hoursWorked: 7.5 } }, { node: { hoursWorked: 7.5 } }],
  });
});

test('one query across subgraphs: departments with stations, attendance and energy; stations with staffing; task hours', async () => {
  const { body } = await gql(
    stack,
    `query($from: DateTime!, $to: DateTime!) {
    departments { id stations { id staffing(from: $from, to: $to) } attendance(from: $from, to: $to) { present absent attendanceRate hoursWorked } energy(from: $from, to: $to) { kwh } }
    taskHours(from: $from, to: $to) { station { id name } taskHours workers }
  }`,
    { from: FROM, to: TO },
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.deepEqual(body.data.departments, [
    { id: 'Finishing', stations: [{ id: 'PAINT', staffing: 1 }], attendance: att(2, 2, 900), energy: { kwh: 0 } },
    {
      id: 'Machining',
      stations: [
        { id: 'CUT', staffing: 2 },
        { id: 'WELD', staffing: 1 },
      ],
      attendance: att(3, 1, 1440),
      energy: { kwh: 0 },
    },
  ]);
  assert.deepEqual(body.data.taskHours, [
    { station: { id: 'CUT', name: 'Cutting' }, taskHours: 3, workers: 2 },
    { station: { id: 'WELD', name: 'Welding' }, taskHours: 0.5, workers: 1 },
    { station: { id: 'PAINT', name: 'Painting' }, taskHours: 0.25, workers: 1 },
  ]);
});

test('metricSeries keeps employee ids out of `dimensions` (they are in personalDimensions, pii:read) and refuses filtering on them', async () => {
  const { body } = await gql(
    stack,
    `{ metricSeries(metric: "operator_task_ms", grain: DAY, from: "${FROM}", to: "${TO}") { points { dimensions { name value } personalDimensions { name value } cells } } metrics { name dimensions personalDimensions } }`,
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const points = body.data.metricSeries.points;
  assert.equal(points.length, 4);
  assert.ok(points.every((p: any) => p.dimensions.every((d: any) => d.name === 'station')));
  assert.deepEqual(points.map((p: any) => p.personalDimensions[0].value).sort(), ['E0001', 'E0001', 'E0002', 'E0009']);
  const info = body.data.metrics.filter((m: any) => ['worker_minutes', 'operator_task_ms'].includes(m.name));
  assert.deepEqual(info, [
    { name: 'worker_minutes', dimensions: ['employee', 'department', 'shift'], personalDimensions: ['employee'] },
    { name: 'operator_task_ms', dimensions: ['operator', 'station'], personalDimensions: ['operator'] },
  ]);
  const noPii = await gql(
    stack,
    `{ metricSeries(metric: "operator_task_ms", grain: DAY, from: "${FROM}", to: "${TO}") { points { dimensions { name } personalDimensions { value } } } }`,
    {},
    ['ops:read'],
  );
  assert.equal(noPii.body.errors?.[0]?.extensions?.code, 'FORBIDDEN', noPii.text);
  assert.doesNotMatch(noPii.text, /E000/);
  await assertBadInput(
    stack,
    `{ metricSeries(metric: "worker_minutes", grain: DAY, from: "${FROM}", to: "${TO}", where: [{ name: "employee", value: "E0001" }]) { metric } }`,
    /personal data/,
  );
});

test('unknown department, shift, station or time zone is BAD_USER_INPUT', async () => {
  const args = `from: "${FROM}", to: "${TO}"`;
  await assertBadInput(
    stack,
    `{ attendance(${args}, departments: ["Nope"]) { total { present } } }`,
    /unknown department "Nope"/,
  );
  await assertBadInput(stack, `{ attendance(${args}, shifts: ["Z"]) { total { present } } }`, /unknown shift "Z"/);
  await assertBadInput(
    stack,
    `{ attendance(${args}, timeZone: "Nowhere/Land") { total { present } } }`,
    /unknown time zone/,
  );
  await assertBadInput(
    stack,
    `{ workers(${args}, departments: ["Nope"]) { totalCount } }`,
    /unknown department "Nope"/,
  );
  await assertBadInput(stack, `{ workers(${args}, after: "bm90LWEtY3Vyc29y") { totalCount } }`, /cursor|no longer/);
  await assertBadInput(stack, `{ taskHours(${args}, stations: ["NOPE"]) { taskHours } }`, /unknown station "NOPE"/);
  await assertBadInput(stack, `{ absences(${args}, top: 0) { total } }`, /`top` must be between/);
});

test('attendanceUpdates: snapshot of today per department and shift, deltas, resume; unknown department refused', async () => {
  const client = wsClient(stack);
  const query = `subscription($after: String) { attendanceUpdates(departments: ["Machining"], after: $after) { kind cursor items { department shift bucket present absent hoursWorked } } }`;
  try {
    const live = subscribe(client, query, 'attendanceUpdates');
    const snap = await live.next();
    assert.deepEqual(snap, {
      kind: 'SNAPSHOT',
      cursor: null,
      items: [
        {
          department: 'Machining',
          shift: 'A',
          bucket: new Date(TODAY).toISOString(),
          present: 4,
          absent: 0,
          hoursWorked: 2,
        },
      ],
    });
    await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
    const at = TODAY + 14 * H;
    // A corrected row: retract the old version, assert the new one (absent instead of present).
    const d1 = stack.serving.push([
      { metric: 'attendance', bucket: at, dims: { department: 'Machining', shift: 'B' }, cells: [-1] },
      { metric: 'minutes_worked', bucket: at, dims: { department: 'Machining', shift: 'B' }, cells: [-480] },
      { metric: 'absent_by_department', bucket: at, dims: { department: 'Machining', shift: 'B' }, cells: [1] },
      { metric: 'attendance', bucket: at, dims: { department: 'Finishing', shift: 'B' }, cells: [1] },
      { metric: 'energy_wh', bucket: at, dims: { machine: 'CUT-1' }, cells: [1] },
    ]);
    assert.deepEqual(await live.next(), {
      kind: 'DELTA',
      cursor: d1.cursor,
      items: [
        {
          department: 'Machining',
          shift: 'B',
          bucket: new Date(at).toISOString(),
          present: -1,
          absent: 1,
          hoursWorked: -8,
        },
      ],
    });
    await live.close();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
    const d2 = stack.serving.push([
      { metric: 'attendance', bucket: at + 8 * H, dims: { department: 'Machining', shift: 'C' }, cells: [2] },
    ]);
    const resumed = subscribe(client, query, 'attendanceUpdates', { after: d1.cursor });
    assert.deepEqual(await resumed.next(), {
      kind: 'DELTA',
      cursor: d2.cursor,
      items: [
        {
          department: 'Machining',
          shift: 'C',
          bucket: new Date(at + 8 * H).toISOString(),
          present: 2,
          absent: 0,
          hoursWorked: 0,
        },
      ],
    });
    await resumed.close();
    await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
    const bad = subscribe(
      client,
      'subscription { attendanceUpdates(departments: ["Nope"]) { kind } }',
      'attendanceUpdates',
    );
    assert.equal((await bad.next()).errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const expired = subscribe(client, 'subscription { attendanceUpdates(after: "999") { kind } }', 'attendanceUpdates');
    assert.equal((await expired.next()).errors?.[0]?.extensions?.code, 'CURSOR_EXPIRED');
  } finally {
    await client.dispose();
  }
});

test('no N+1: staffing and department attendance of 14 stations cost the reads of one', async () => {
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
      machines: [`${id}-1`],
      flowIndex: i,
      idealCycleSec: 30,
    },
  }));
  const rows = ids.flatMap((id, i) => [
    row('operator_task_ms', A + MIN, { operator: `E${100 + i}`, station: id }, 60_000 * (i + 1)),
    row('operator_task_ms', A + MIN, { operator: `E${200 + i}`, station: id }, 60_000),
    row('attendance', A, { department: `D${i % 3}`, shift: 'A' }, 1),
  ]);
  const big = await startFixtureStack(rows, {}, { entities });
  try {
    const reads = async (filter: string) => {
      const before = big.serving.seriesCalls.length;
      const { body } = await gql(
        big,
        `query($from: DateTime!, $to: DateTime!) {
        stations${filter} { id staffing(from: $from, to: $to) department { id attendance(from: $from, to: $to) { present } } }
      }`,
        { from: FROM, to: TO },
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return { calls: big.serving.seriesCalls.length - before, stations: body.data.stations };
    };
    const one = await reads('(zones: ["Z3"], departments: ["D0"])'); // S03 alone
    const all = await reads('');
    assert.equal(all.stations.length, 14);
    assert.deepEqual(all.stations[3], { id: 'S03', staffing: 2, department: { id: 'D0', attendance: { present: 5 } } });
    assert.equal(all.calls, one.calls, `14 stations made ${all.calls} serving reads, one station ${one.calls}`);
  } finally {
    await big.close();
  }
});
