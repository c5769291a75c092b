import { test, beforeAll as before, afterAll as after, describe } from 'vitest';
import assert from 'node:assert/strict';
import { startFixtureStack, type FixtureStack } from './testing/start-fixture-stack.ts';
import { REPORT_PAIRINGS, REPORT_ROWS, reportEntities, T0, MIN } from './testing/report-fixture.ts';

const FROM = new Date(T0).toISOString();
const TO = new Date(T0 + 60 * MIN).toISOString();

async function gql(stack: FixtureStack, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...stack.headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

// Through the real gateway and all four subgraphs over the report fixture (gateway/testing/report-fixture.ts).
describe('reports through the gateway', () => {
  let stack: FixtureStack;
  before(async () => {
    stack = await startFixtureStack(REPORT_ROWS, {}, { entities: reportEntities(), pairings: REPORT_PAIRINGS });
  });
  after(async () => {
    await stack?.close();
  });

  test('report 1 with quality per station: one cross-subgraph query, exact figures', async () => {
    const { body } = await gql(
      stack,
      `query($from: DateTime!, $to: DateTime!) {
      stations { id production(from: $from, to: $to) { partsStarted partsCompleted errors wip } quality(from: $from, to: $to) { inspected passed failed yield } errorRate(from: $from, to: $to) errorCount(from: $from, to: $to) }
      production(from: $from, to: $to, groupBy: [STATION], orderBy: { field: WIP }, top: 2) { rows { station { id } figures { partsStarted wip } } }
      all: production(from: $from, to: $to, groupBy: []) {
        rows { figures { partsStarted partsCompleted errors wip } }
        line { partsStarted partsCompleted throughputPerHour wip oee { quality } }
      }
    }`,
      { from: FROM, to: TO },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const d = body.data;
    assert.deepEqual(d.stations, [
      {
        id: 'CUT',
        production: { partsStarted: 10, partsCompleted: 8, errors: 2, wip: 3 },
        quality: { inspected: 8, passed: 6, failed: 2, yield: 0.75 },
        errorRate: 0.25,
        errorCount: 2,
      },
      {
        id: 'WELD',
        production: { partsStarted: 6, partsCompleted: 5, errors: 1, wip: 1 },
        quality: { inspected: 5, passed: 4, failed: 1, yield: 0.8 },
        errorRate: 0.2,
        errorCount: 1,
      },
      {
        id: 'PAINT',
        production: { partsStarted: 4, partsCompleted: 4, errors: 0, wip: 0 },
        quality: { inspected: 4, passed: 4, failed: 0, yield: 1 },
        errorRate: 0,
        errorCount: 0,
      },
      {
        id: 'REW',
        production: { partsStarted: 3, partsCompleted: 1, errors: 0, wip: 3 },
        quality: { inspected: 1, passed: 1, failed: 0, yield: 1 },
        errorRate: 0,
        errorCount: 0,
      },
    ]);
    // WIP 3 at CUT and REW (a tie keeps flow order), then the rest: top 2.
    assert.deepEqual(d.production.rows, [
      { station: { id: 'CUT' }, figures: { partsStarted: 10, wip: 3 } },
      { station: { id: 'REW' }, figures: { partsStarted: 3, wip: 3 } },
    ]);
    assert.deepEqual(d.all.rows, [{ figures: { partsStarted: 23, partsCompleted: 18, errors: 3, wip: 7 } }]);
    assert.deepEqual(d.all.line, {
      partsStarted: 10,
      partsCompleted: 4,
      throughputPerHour: 4,
      wip: 7,
      oee: { quality: 1 * (6 / 8) * (4 / 5) * (4 / 4) },
    });
  });

  test('report 4: quality by station and department, line figures, MTTR, orders and tools, in one query', async () => {
    const { body } = await gql(
      stack,
      `query($from: DateTime!, $to: DateTime!) {
      quality(from: $from, to: $to, groupBy: [DEPARTMENT], orderBy: { field: FAILED }, top: 2) {
        grain timeZone rows { station { id } department { id } figures { inspected failed yield } }
        total { inspected passed failed } line { firstPassYield reworkDone reworkPending }
      }
      day: quality(from: $from, to: $to, grain: DAY, timeZone: "Europe/Berlin", groupBy: [TIME], stations: ["CUT", "WELD"]) {
        from to rows { bucket { start end label } figures { inspected failed } }
      }
      departments { id stations { id } quality(from: $from, to: $to) { inspected failed } }
      mttr(from: $from, to: $to, grain: HOUR) { rows { bucket { start } severity repairsCompleted mttrMinutes } repairsCompleted mttrMinutes }
      orders(first: 2) { totalCount edges { node { id kind severity status subject requestedAt completedAt repairMinutes machine { id station { id name } } } } pageInfo { hasNextPage endCursor } }
      open: orders(open: true) { edges { node { id } } }
      purchases: orders(kinds: [PURCHASE]) { edges { node { id status severity machine { id } } } }
      machines(stations: ["CUT", "WELD"]) { id repairOrders { id status } }
      tools(orderBy: { field: LIFE_USED }) { totalCount edges { node { id type vendor ratedLifeHours usedHours lifeUsed checkedOut checkedOutSince } } }
      out: tools(checkedOut: true) { edges { node { id } } }
      tool(id: "T-002") { checkouts(from: $from, to: $to) }
      none: tool(id: "T-999") { id }
    }`,
      { from: FROM, to: TO },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const d = body.data;
    assert.deepEqual(d.quality.rows, [
      { station: null, department: { id: 'Machining' }, figures: { inspected: 13, failed: 3, yield: 10 / 13 } },
      { station: null, department: { id: 'Finishing' }, figures: { inspected: 4, failed: 0, yield: 1 } },
    ]);
    assert.deepEqual({ grain: d.quality.grain, timeZone: d.quality.timeZone }, { grain: 'DAY', timeZone: 'UTC' });
    assert.deepEqual(d.quality.total, { inspected: 18, passed: 15, failed: 3 });
    assert.deepEqual(d.quality.line, {
      firstPassYield: 1 * (6 / 8) * (4 / 5) * (4 / 4),
      reworkDone: 1,
      reworkPending: 3,
    });
    // A Berlin day: 2026-11-22 local starts at 23:00 UTC the day before.
    assert.deepEqual(d.day, {
      from: '2026-11-21T23:00:00.000Z',
      to: '2026-11-22T23:00:00.000Z',
      rows: [
        {
          bucket: { start: '2026-11-21T23:00:00.000Z', end: '2026-11-22T23:00:00.000Z', label: '2026-11-22' },
          figures: { inspected: 13, failed: 3 },
        },
      ],
    });
    assert.deepEqual(d.departments, [
      { id: 'Finishing', stations: [{ id: 'PAINT' }], quality: { inspected: 4, failed: 0 } },
      { id: 'Machining', stations: [{ id: 'CUT' }, { id: 'WELD' }], quality: { inspected: 13, failed: 3 } },
      { id: 'Quality', stations: [{ id: 'REW' }], quality: { inspected: 1, failed: 0 } },
    ]);
    assert.deepEqual(d.mttr, {
      rows: [
        { bucket: { start: FROM }, severity: 1, repairsCompleted: 2, mttrMinutes: 60 },
        { bucket: { start: FROM }, severity: 3, repairsCompleted: 1, mttrMinutes: 30 },
      ],
      repairsCompleted: 3,
      mttrMinutes: 50,
    });
    assert.equal(d.orders.totalCount, 3, 'the deleted order is gone');
    assert.deepEqual(
      d.orders.edges.map((e: any) => e.node),
      [
        {
          id: 'R-2',
          kind: 'REPAIR',
          severity: 2,
          status: 'CONFIRMED',
          subject: 'WELD-1',
          requestedAt: new Date(T0 - 30 * MIN).toISOString(),
          completedAt: null,
          repairMinutes: null,
          machine: { id: 'WELD-1', station: { id: 'WELD', name: 'Welding' } },
        },
        {
          id: 'R-1',
          kind: 'REPAIR',
          severity: 1,
          status: 'COMPLETED',
          subject: 'CUT-1',
          requestedAt: new Date(T0 - 120 * MIN).toISOString(),
          completedAt: new Date(T0 - 60 * MIN).toISOString(),
          repairMinutes: 60,
          machine: { id: 'CUT-1', station: { id: 'CUT', name: 'Cutting' } },
        },
      ],
    );
    assert.equal(d.orders.pageInfo.hasNextPage, true);
    const next = await gql(
      stack,
      'query($after: String) { orders(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }',
      { after: d.orders.pageInfo.endCursor },
    );
    assert.deepEqual(next.body.data.orders, { edges: [{ node: { id: 'P-1' } }], pageInfo: { hasNextPage: false } });
    assert.deepEqual(d.open.edges, [{ node: { id: 'R-2' } }]);
    assert.deepEqual(d.purchases.edges, [{ node: { id: 'P-1', status: 'COMPLETED', severity: null, machine: null } }]);
    assert.deepEqual(d.machines, [
      { id: 'CUT-1', repairOrders: [{ id: 'R-1', status: 'COMPLETED' }] },
      { id: 'CUT-2', repairOrders: [] },
      { id: 'WELD-1', repairOrders: [{ id: 'R-2', status: 'CONFIRMED' }] },
    ]);
    assert.deepEqual(d.tools, {
      totalCount: 3,
      edges: [
        {
          node: {
            id: 'T-003',
            type: 'bond head',
            vendor: 'Vantor Systems',
            ratedLifeHours: 100,
            usedHours: 10,
            lifeUsed: 0.1,
            checkedOut: true,
            checkedOutSince: new Date(T0 - 10 * MIN).toISOString(),
          },
        },
        {
          node: {
            id: 'T-002',
            type: 'test socket',
            vendor: 'Kessler Tooling',
            ratedLifeHours: 600,
            usedHours: 3,
            lifeUsed: 3 / 600,
            checkedOut: false,
            checkedOutSince: null,
          },
        },
        {
          node: {
            id: 'T001',
            type: 'drill',
            vendor: null,
            ratedLifeHours: null,
            usedHours: 0,
            lifeUsed: null,
            checkedOut: false,
            checkedOutSince: null,
          },
        },
      ],
    });
    assert.deepEqual(d.out.edges, [{ node: { id: 'T-003' } }]);
    assert.deepEqual(d.tool, { checkouts: 2 });
    assert.equal(d.none, null);
  });

  test('bad input is BAD_USER_INPUT naming what is known, never an empty answer', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        `{ quality(from: "${FROM}", to: "${TO}", stations: ["NOPE"]) { total { inspected } } }`,
        /unknown station "NOPE"; known: CUT, WELD, PAINT, REW/,
      ],
      [
        `{ quality(from: "${FROM}", to: "${TO}", departments: ["Nope"]) { total { inspected } } }`,
        /unknown department "Nope"; known: Finishing, Machining, Quality/,
      ],
      [
        `{ production(from: "${FROM}", to: "${TO}", zones: ["Z9"]) { total { partsStarted } } }`,
        /unknown zone "Z9"; known: A, B/,
      ],
      [
        `{ production(from: "${FROM}", to: "${TO}", stations: ["NOPE"]) { total { partsStarted } } }`,
        /unknown station "NOPE"; known: CUT, WELD, PAINT, REW/,
      ],
      [
        `{ quality(from: "${FROM}", to: "${TO}", timeZone: "Mars/Olympus") { total { inspected } } }`,
        /unknown time zone "Mars\/Olympus"/,
      ],
      [
        `{ mttr(from: "${FROM}", to: "${TO}", timeZone: "Nowhere") { repairsCompleted } }`,
        /unknown time zone "Nowhere"/,
      ],
      [`{ quality(from: "${TO}", to: "${FROM}") { total { inspected } } }`, /must be before/],
      [`{ quality(from: "${FROM}", to: "${TO}", top: 0) { total { inspected } } }`, /`top` must be between/],
      ['{ orders(after: "not-a-cursor") { totalCount } }', /not a cursor this API issued/],
      [
        `{ tools(after: "${Buffer.from(JSON.stringify('T-404')).toString('base64url')}") { totalCount } }`,
        /no longer in this list/,
      ],
      ['{ tools(first: 0) { totalCount } }', /`first` must be between/],
    ];
    for (const [query, message] of cases) {
      const { body, text } = await gql(stack, query);
      assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${query}: ${text}`);
      assert.match(body.errors[0].message, message, query);
      assert.doesNotMatch(text, /\n\s+at |\.ts:\d+/);
    }
  });
});

describe('no N+1: a query over 14 stations costs the same serving reads as over 4', () => {
  const QUERY = `query($from: DateTime!, $to: DateTime!) {
    stations {
      id production(from: $from, to: $to) { partsCompleted errorRate } oee(from: $from, to: $to) { oee }
      quality(from: $from, to: $to) { yield } errorRate(from: $from, to: $to) errorCount(from: $from, to: $to)
      machines { id repairOrders { id } }
    }
    departments { id quality(from: $from, to: $to) { inspected } }
    quality(from: $from, to: $to) { rows { station { id } figures { inspected } } line { firstPassYield reworkPending } }
    production(from: $from, to: $to) { line { wip } }
  }`;
  async function reads(stations: number) {
    const stack = await startFixtureStack(
      REPORT_ROWS,
      {},
      { entities: reportEntities(stations), pairings: REPORT_PAIRINGS },
    );
    try {
      const { body } = await gql(stack, QUERY, { from: FROM, to: TO });
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.equal(body.data.stations.length, stations);
      return {
        series: stack.serving.seriesCalls.length,
        entities: stack.serving.entityCalls.length,
        rows: body.data.quality.rows.length,
      };
    } finally {
      await stack.close();
    }
  }

  test('series and entity reads do not grow with the stations', async () => {
    const four = await reads(4);
    const fourteen = await reads(14);
    assert.equal(four.rows, 4);
    assert.equal(fourteen.rows, 14);
    assert.equal(fourteen.series, four.series, `${fourteen.series} series reads for 14 stations, ${four.series} for 4`);
    assert.equal(fourteen.entities, four.entities);
    // Per subgraph request: a handful of metric reads (each a few serving calls over rollup grains), not one per station.
    assert.ok(fourteen.series <= 40, `${fourteen.series} series reads`);
  });
});
