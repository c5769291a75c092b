import { test, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  fixtureToken,
  startFixtureStack,
  within,
  type FixtureStack,
} from '../../gateway/testing/start-fixture-stack.ts';
import { FIXTURE_ENTITIES, type FixtureRow } from '../../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../../serving/types.ts';
import { gql, subscribe, wsClient } from '../testing/gateway-client.ts';
import type { ConnectorHealth } from './alert-types.ts';

// The alert rules on the server, through the real gateway and subgraphs over the fixture serving:
// the rows, orders and connector status below are changed in place and the next evaluation sees them.
const MIN = 60_000;
const NOW_MINUTE = Math.floor(Date.now() / MIN) * MIN;
const THRESHOLDS = { zoneMaxC: 40, noExitMinutes: 15, connectorLag: 1000, stallSeconds: 300 };
const rows: FixtureRow[] = [
  // Zone A's hottest reading 41.5 °C (centi-°C), B's 30 °C: A fires.
  { metric: 'zone_temp_max', bucket: NOW_MINUTE - 5 * MIN, dims: { zone: 'A' }, cells: [4150] },
  { metric: 'zone_temp_max', bucket: NOW_MINUTE, dims: { zone: 'B' }, cells: [3000] },
  // CUT and WELD had exits in the last 15 min, PAINT only before: PAINT fires.
  { metric: 'parts_exited', bucket: NOW_MINUTE - 2 * MIN, dims: { station: 'CUT' }, cells: [3] },
  { metric: 'parts_exited', bucket: NOW_MINUTE, dims: { station: 'WELD' }, cells: [1] },
  { metric: 'parts_exited', bucket: NOW_MINUTE - 40 * MIN, dims: { station: 'PAINT' }, cells: [2] },
];
const order = (id: string, severity: number, status: string): EntityRow => ({
  entity: 'order',
  key: id,
  version: '1',
  deleted: false,
  data: { kind: 'repair', severity, status, subject: 'WELD-1', requested_at: NOW_MINUTE - 30 * MIN },
});
const entities: EntityRow[] = [...FIXTURE_ENTITIES, order('R-1', 1, 'requested'), order('R-2', 2, 'requested')];
const connectors: ConnectorHealth[] = [
  { name: 'machining', lag: 5000, lastCheckpointAt: Date.now(), lastError: null },
  { name: 'orders', lag: 0, lastCheckpointAt: Date.now(), lastError: null },
];
let stack: FixtureStack;

before(async () => {
  stack = await startFixtureStack(
    rows,
    {},
    {
      entities,
      alerts: { alertThresholds: THRESHOLDS, connectors: async () => connectors, alertEveryMs: 200 },
    },
  );
});
after(async () => stack?.close());

const ALERT = 'id rule subject message since';
const subjects = (alerts: { subject: string; rule: string }[]) => alerts.map((a) => `${a.rule} ${a.subject}`).sort();

test('the alerts query: what fires on the served figures, every rule with its state, and the thresholds', async () => {
  const { body, text } = await gql(
    stack,
    `{ alerts { alerts { ${ALERT} } rules { rule description state error } thresholds { zoneMaxC noExitMinutes connectorLag stallSeconds } evaluatedAt } }`,
  );
  assert.equal(body.errors, undefined, text);
  const r = body.data.alerts;
  assert.deepEqual(subjects(r.alerts), [
    'CONNECTOR connector machining',
    'SEVERITY_1_REPAIR order R-1',
    'STATION_NO_EXITS station PAINT',
    'ZONE_TEMPERATURE zone A',
  ]);
  assert.equal(r.alerts.find((a: any) => a.rule === 'ZONE_TEMPERATURE').message, '41.5 °C > 40 °C');
  assert.deepEqual(
    r.rules.map((x: any) => [x.rule, x.state, x.error]),
    [
      ['ZONE_TEMPERATURE', 'FIRING', null],
      ['STATION_NO_EXITS', 'FIRING', null],
      ['SEVERITY_1_REPAIR', 'FIRING', null],
      ['CONNECTOR', 'FIRING', null],
    ],
  );
  assert.deepEqual(r.thresholds, THRESHOLDS);
  assert.ok(Math.abs(Date.parse(r.evaluatedAt) - Date.now()) < 60_000);
});

test('without ops:read the query and the subscription are refused', async () => {
  const q = await gql(stack, '{ alerts { alerts { id } } }', {}, ['production:read', 'quality:read']);
  assert.equal(q.body.errors?.[0]?.extensions?.code, 'FORBIDDEN', q.text);
  assert.equal(q.body.data?.alerts ?? null, null);
  const client = createClient({
    url: stack.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${fixtureToken(['production:read'])}` },
  });
  try {
    const it = client.iterate<unknown>({ query: `subscription { alerts { kind alerts { ${ALERT} } } }` });
    const r = await within(it.next(), 'the refusal');
    const msg = r.value as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
    assert.equal(msg.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(msg));
    assert.equal((msg.data as { alerts?: unknown } | null | undefined)?.alerts ?? null, null);
  } finally {
    await client.dispose();
  }
});

test('the subscription: a snapshot, then alerts raised and cleared as the figures change, with their since', async () => {
  const client = wsClient(stack);
  const sub = subscribe(
    client,
    `subscription { alerts { kind alerts { ${ALERT} } raised { ${ALERT} } cleared { ${ALERT} } rules { rule state } evaluatedAt } }`,
    'alerts',
  );
  try {
    const snap = await sub.next();
    assert.equal(snap.kind, 'SNAPSHOT');
    assert.deepEqual(subjects(snap.alerts), [
      'CONNECTOR connector machining',
      'SEVERITY_1_REPAIR order R-1',
      'STATION_NO_EXITS station PAINT',
      'ZONE_TEMPERATURE zone A',
    ]);
    assert.deepEqual(snap.raised, []);
    const sinceOf = new Map<string, string>(snap.alerts.map((a: any) => [a.id, a.since]));

    // PAINT exits, R-1 is repaired, machining catches up, zone B heats up — all in one turn.
    rows.push({ metric: 'parts_exited', bucket: NOW_MINUTE, dims: { station: 'PAINT' }, cells: [1] });
    entities[entities.findIndex((e) => e.key === 'R-1')] = order('R-1', 1, 'completed');
    connectors[0] = { ...connectors[0], lag: 10 };
    rows.push({ metric: 'zone_temp_max', bucket: NOW_MINUTE, dims: { zone: 'B' }, cells: [4400] });

    const raised: any[] = [];
    const cleared: any[] = [];
    let latest = snap;
    // One evaluation may straddle the change; the changes add up to it within a few evaluations.
    while (cleared.length < 3 || raised.length < 1) {
      latest = await sub.next();
      assert.equal(latest.kind, 'CHANGE');
      raised.push(...latest.raised);
      cleared.push(...latest.cleared);
    }
    assert.deepEqual(subjects(raised), ['ZONE_TEMPERATURE zone B']);
    assert.deepEqual(subjects(cleared), [
      'CONNECTOR connector machining',
      'SEVERITY_1_REPAIR order R-1',
      'STATION_NO_EXITS station PAINT',
    ]);
    // A cleared alert keeps the since it was raised with; one still firing keeps its own.
    for (const a of cleared) assert.equal(a.since, sinceOf.get(a.id));
    assert.ok(Date.parse(raised[0].since) > Date.parse(snap.evaluatedAt));
    assert.deepEqual(subjects(latest.alerts), ['ZONE_TEMPERATURE zone A', 'ZONE_TEMPERATURE zone B']);
    const zoneA = latest.alerts.find((a: any) => a.subject === 'zone A');
    assert.equal(zoneA.since, sinceOf.get(zoneA.id));
    assert.deepEqual(
      latest.rules.map((r: any) => [r.rule, r.state]),
      [
        ['ZONE_TEMPERATURE', 'FIRING'],
        ['STATION_NO_EXITS', 'OK'],
        ['SEVERITY_1_REPAIR', 'OK'],
        ['CONNECTOR', 'OK'],
      ],
    );

    // Figures that cannot be read make their rules UNAVAILABLE; the alerts they raised stay.
    stack.serving.failWith(Object.assign(new Error('store down'), { code: 'STORE_UNAVAILABLE' }));
    let broken = await sub.next();
    while (broken.rules.find((r: any) => r.rule === 'ZONE_TEMPERATURE').state !== 'UNAVAILABLE')
      broken = await sub.next();
    stack.serving.failWith(null);
    assert.deepEqual(subjects(broken.cleared), []);
    assert.deepEqual(subjects(broken.alerts), ['ZONE_TEMPERATURE zone A', 'ZONE_TEMPERATURE zone B']);
  } finally {
    await sub.close();
    await client.dispose();
  }
});
