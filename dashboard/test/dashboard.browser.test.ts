import { it, beforeAll as before, afterAll as after, describe } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createGateway } from '../../gateway/create-gateway.ts';
import { SUBGRAPH_NAMES } from '../../subgraphs/registry.ts';
import { DEFAULT_DASHBOARD_DIST, createDashboardRoutes } from '../../gateway/dashboard-routes.ts';
import {
  FIXTURE_SECRET,
  fixtureToken,
  startFixtureStack,
  type FixtureStack,
} from '../../gateway/testing/start-fixture-stack.ts';
import { createAuthenticator } from '../../gateway/create-authenticator.ts';
import {
  DAY_FROM,
  DAY_TO,
  TEST_THRESHOLDS,
  energyRows,
  productionRows,
  startDashboardStack,
} from '../testing/start-dashboard-stack.ts';
import { FIXTURE_ENTITIES } from '../../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../../serving/types.ts';

// The dashboard in Debian's Chromium against the real gateway and subgraphs over the fixture
// serving: every report's figures against a GraphQL query for the same range, a live change
// pushed through productionUpdates, a gateway restart, and the sign-in. Needs `npm run build:dashboard`.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.DASHBOARD_SCREENSHOTS ?? 'screenshots';
const FROM = new Date(DAY_FROM).toISOString();
const TO = new Date(DAY_TO).toISOString();
let stack: FixtureStack;
let browser: Browser;
let base: string;
let restarted: Awaited<ReturnType<typeof createGateway>> | null = null;
// The stack's rows and current-state entities, read in place: a row or an order added here is served at once.
const rows = [...productionRows(), ...energyRows()];
const entities: EntityRow[] = [...FIXTURE_ENTITIES];

before(async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `no browser at ${CHROMIUM}: run npm test (it installs Debian's chromium) or set CHROMIUM_PATH`,
  );
  assert.ok(
    existsSync(`${DEFAULT_DASHBOARD_DIST}/index.html`),
    'the dashboard is not built: run npm run build:dashboard',
  );
  mkdirSync(SHOTS, { recursive: true });
  stack = await startDashboardStack({}, rows, entities);
  stack.setReady(true);
  base = stack.gateway.url.replace(/graphql$/, '');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => {
  await browser?.close();
  await restarted?.close();
  await stack?.close();
});

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...stack.headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

/**
 * A page that may load nothing from off the machine (the dashboard must work offline), signed in
 * with a fixture token of every scope unless `token` is null.
 */
async function openPage(
  hash: string,
  token: string | null = fixtureToken(),
  at = base,
): Promise<{ page: Page; external: string[]; pageErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  if (token) await page.addInitScript((t) => localStorage.setItem('millrace.token', t), token);
  const external: string[] = [];
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    external.push(url.href);
    return route.abort();
  });
  await page.goto(`${at}${hash}`, { waitUntil: 'load' });
  return { page, external, pageErrors };
}

/** Waits until the panel left its loading state; returns that state. */
async function settled(page: Page, panel: string): Promise<string> {
  const sel = `[data-panel="${panel}"]`;
  // The state is read in the same evaluation that saw it settle (a live re-read may start right after).
  const state = await page.waitForFunction(
    (s) => {
      const v = document.querySelector(s)?.getAttribute('data-state') ?? '';
      return ['ready', 'empty', 'error'].includes(v) ? v : null;
    },
    sel,
    { timeout: 30_000 },
  );
  return (await state.jsonValue()) as string;
}

const statValue = async (page: Page, key: string) =>
  Number(await page.getAttribute(`[data-stat="${key}"] .value`, 'data-value'));

describe('dashboard in Chromium', () => {
  it('serves the app at / with local assets only, and GraphQL stays at /graphql', async () => {
    const html = await fetch(base);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await html.text())?.[1];
    assert.ok(asset, 'index.html names its script');
    const js = await fetch(new URL(asset, base));
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(new URL('/assets/../../package.json', base))).status, 404);
    assert.deepEqual(
      (await gql('{ stations { id } }')).data.stations.map((s: { id: string }) => s.id),
      ['CUT', 'WELD', 'PAINT'],
    );
  });

  it('production: the floor, totals, shifts and errors equal a GraphQL query for the same range', async () => {
    const { page, external, pageErrors } = await openPage(`#/production?from=${FROM}&to=${TO}`);
    for (const p of ['floor', 'totals', 'periods', 'errors', 'trend'])
      assert.equal(await settled(page, p), 'ready', `panel ${p}`);
    const q = await gql(
      `query($from: DateTime!, $to: DateTime!) {
        production(from: $from, to: $to, groupBy: [STATION]) { rows { station { id } figures { wip } } total { partsCompleted errors } line { partsStarted partsCompleted wip } }
        shifts: production(from: $from, to: $to, grain: SHIFT, groupBy: [TIME]) { rows { bucket { label } figures { partsCompleted } } }
        stationErrors(from: $from, to: $to, groupBy: [CODE]) { rows { code count } total }
      }`,
      { from: FROM, to: TO },
    );
    assert.equal(q.errors, undefined);
    const p = q.data.production;
    assert.equal(await statValue(page, 'line.partsStarted'), p.line.partsStarted);
    assert.equal(await statValue(page, 'line.partsCompleted'), p.line.partsCompleted);
    assert.equal(await statValue(page, 'line.wip'), p.line.wip);
    assert.equal(await statValue(page, 'total.partsCompleted'), p.total.partsCompleted);
    assert.equal(await statValue(page, 'total.errors'), p.total.errors);
    assert.ok(p.total.partsCompleted > 0, 'the fixture has production in the range');
    // The heat map: every station's WIP on the floor plan is the served one.
    for (const r of p.rows)
      assert.equal(
        Number(await page.getAttribute(`svg.floor [data-station="${r.station.id}"]`, 'data-value')),
        r.figures.wip,
        `WIP of ${r.station.id}`,
      );
    const fills = await page.$$eval('svg.floor circle.station', (cs) => cs.map((c) => (c as SVGElement).style.fill));
    assert.ok(new Set(fills).size > 1, 'stations are coloured by WIP');
    // Errors by code and totals per shift.
    const bars = await page.$$eval('[data-panel="errors"] .bar-row', (rows) =>
      Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.code, Number((r as HTMLElement).dataset.value)])),
    );
    assert.deepEqual(
      bars,
      Object.fromEntries(q.data.stationErrors.rows.map((r: { code: string; count: number }) => [r.code, r.count])),
    );
    const shiftRows = await page.$$eval('[data-testid="periods"] tbody tr', (trs) =>
      trs.map((tr) => [tr.children[0].textContent, Number((tr.children[2] as HTMLElement).dataset.value)]),
    );
    assert.deepEqual(
      shiftRows.sort(),
      q.data.shifts.rows
        .filter((r: { figures: { partsCompleted: number } }) => r.figures.partsCompleted)
        .map((r: { bucket: { label: string }; figures: { partsCompleted: number } }) => [
          r.bucket.label,
          r.figures.partsCompleted,
        ])
        .sort(),
    );
    assert.match(
      (await page.textContent('[data-panel="totals"] .freshness')) ?? '',
      /as of 11-22 08:00:00 · batch ≤ 11-22 07:59:00 · speed lag 3 ev/,
    );
    assert.deepEqual(external, [], 'the dashboard asked for assets off the machine');
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: `${SHOTS}/production.png`, fullPage: true });
    await page.close();
  });

  // Reports whose resolvers may not be deployed yet: each panel either shows the same figures as
  // the API or the same error code the API answers with (the designed error state), never a blank.
  const reports = [
    {
      view: 'energy',
      panel: 'energy-totals',
      stat: 'energy.kwh',
      query: `query($from: DateTime!, $to: DateTime!) { energy(from: $from, to: $to, groupBy: [DEPARTMENT]) { total { kwh } } }`,
      value: (d: any) => d.energy.total.kwh,
    },
    {
      view: 'quality',
      panel: 'quality-summary',
      stat: 'quality.inspected',
      query: `query($from: DateTime!, $to: DateTime!) { quality(from: $from, to: $to, groupBy: [STATION]) { total { inspected } } }`,
      value: (d: any) => d.quality.total.inspected,
    },
    {
      view: 'workforce',
      panel: 'attendance',
      stat: 'attendance.present',
      query: `query($from: DateTime!, $to: DateTime!) { attendance(from: $from, to: $to, grain: DAY, groupBy: [DEPARTMENT, SHIFT]) { total { present } } }`,
      value: (d: any) => d.attendance.total.present,
    },
  ];
  for (const r of reports) {
    it(`${r.view}: the panel equals a GraphQL query for the same range, or shows its error`, async () => {
      const { page, pageErrors } = await openPage(`#/${r.view}?from=${FROM}&to=${TO}`);
      const state = await settled(page, r.panel);
      const q = await gql(r.query, { from: FROM, to: TO });
      if (q.errors?.length) {
        assert.equal(state, 'error');
        assert.match(
          (await page.textContent(`[data-panel="${r.panel}"] .error strong`)) ?? '',
          new RegExp(`^${q.errors[0].extensions?.code}$`),
        );
      } else if (r.value(q.data) === 0) {
        assert.equal(state, 'empty');
      } else {
        assert.equal(state, 'ready');
        assert.equal(await statValue(page, r.stat), r.value(q.data));
      }
      assert.deepEqual(pageErrors, []);
      await page.screenshot({ path: `${SHOTS}/${r.view}.png`, fullPage: true });
      await page.close();
    });
  }

  it("workforce: a worker's name from the clock-in sheet shows beside the id with pii:read, and neither without", async () => {
    // Two workers' minutes on the fixture day's shift A; only E0001 was named on a sheet.
    const shiftA = DAY_FROM + 6 * 3_600_000;
    rows.push(
      {
        metric: 'worker_minutes',
        bucket: shiftA,
        dims: { employee: 'E0001', department: 'Machining', shift: 'A' },
        cells: [120],
      },
      {
        metric: 'worker_minutes',
        bucket: shiftA,
        dims: { employee: 'E0002', department: 'Machining', shift: 'A' },
        cells: [90],
      },
    );
    entities.push({
      entity: 'worker',
      key: 'E0001',
      version: '1',
      deleted: false,
      data: { name: 'Ana Berg', department: 'Machining' },
    });
    const cells = (page: Page) =>
      page.$$eval('[data-testid="workers"] tbody tr', (trs) =>
        trs.map((tr) => [...tr.children].slice(0, 3).map((td) => td.textContent)),
      );
    const named = await openPage(`#/workforce?from=${FROM}&to=${TO}`);
    assert.equal(await settled(named.page, 'workers'), 'ready');
    assert.deepEqual(await cells(named.page), [
      ['E0001', 'Ana Berg', 'Machining'],
      ['E0002', '—', 'Machining'],
    ]);
    assert.deepEqual(named.pageErrors, []);
    await named.page.screenshot({ path: `${SHOTS}/workforce-names.png`, fullPage: true });
    await named.page.close();
    const scopes = ['production:read', 'quality:read', 'energy:read', 'workforce:read', 'ops:read'];
    const anonymous = await openPage(`#/workforce?from=${FROM}&to=${TO}`, fixtureToken(scopes));
    assert.equal(await settled(anonymous.page, 'workers'), 'ready');
    assert.deepEqual(await cells(anonymous.page), [
      ['Machining', 'A', '2'],
      ['Machining', 'A', '1.5'],
    ]);
    const text = (await anonymous.page.textContent('[data-panel="workers"]')) ?? '';
    assert.doesNotMatch(text, /E0001|Ana Berg/);
    assert.match(text, /ids and names need pii:read/);
    assert.deepEqual(anonymous.pageErrors, []);
    await anonymous.page.close();
  });

  const floorValues = (page: Page, sel: string) =>
    page.$$eval(`[data-panel="zone-heat"] ${sel}`, (els) =>
      Object.fromEntries(
        els.map((e) => [
          (e as HTMLElement).dataset.station ?? (e as HTMLElement).dataset.zone,
          Number((e as HTMLElement).dataset.value),
        ]),
      ),
    );
  const stationKwh = async (from: string, to: string) => {
    const q = await gql(
      `query($from: DateTime!, $to: DateTime!) {
        energy(from: $from, to: $to, groupBy: [STATION]) { rows { station { id } figures { kwh } } }
        zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) { rows { zone { id } figures { maxC } } }
      }`,
      { from, to },
    );
    assert.equal(q.errors, undefined, JSON.stringify(q.errors));
    return {
      stations: Object.fromEntries(
        q.data.energy.rows.map((r: { station: { id: string }; figures: { kwh: number } }) => [
          r.station.id,
          r.figures.kwh,
        ]),
      ),
      zones: Object.fromEntries(
        q.data.zoneTemperatures.rows.map((r: { zone: { id: string }; figures: { maxC: number } }) => [
          r.zone.id,
          r.figures.maxC,
        ]),
      ),
    };
  };

  it('energy: the floor heat map shows kWh per station and zone maxima equal to a GraphQL query for the same range', async () => {
    const { page, pageErrors } = await openPage(`#/energy?from=${FROM}&to=${TO}`);
    assert.equal(await settled(page, 'zone-heat'), 'ready');
    const want = await stationKwh(FROM, TO);
    assert.deepEqual(await floorValues(page, 'g[data-station]'), want.stations);
    assert.deepEqual(await floorValues(page, 'rect[data-zone]'), want.zones);
    // The fixture meters: WELD-1 25 Wh/min, CUT-1 + CUT-2 20, PAINT-1 5, over 8 hours.
    assert.deepEqual(want.stations, { CUT: 9.6, WELD: 12, PAINT: 2.4 });
    assert.equal(await page.textContent('[data-panel="zone-heat"] g[data-station="WELD"] .station-value'), '12.0');
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: `${SHOTS}/energy-heat-map.png`, fullPage: true });
    await page.close();
  });

  it('energy: a meter reading pushed live moves its station on the heat map without a reload', async () => {
    const { page } = await openPage('#/energy?range=1h');
    assert.equal(await settled(page, 'zone-heat'), 'ready');
    await page.waitForFunction(() => document.querySelector('[data-stat="live.machines"]') !== null, undefined, {
      timeout: 15_000,
    });
    const before = await floorValues(page, 'g[data-station]');
    assert.equal(before.WELD, 0);
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    // What the layers now hold and what the speed layer announces, together.
    const reading = { metric: 'energy_wh', bucket: now, dims: { machine: 'WELD-1' }, cells: [700] };
    rows.push(reading);
    stack.serving.push([reading]);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-panel="zone-heat"] g[data-station="WELD"]')?.getAttribute('data-value') === '0.7',
      undefined,
      { timeout: 15_000 },
    );
    assert.equal(await page.textContent('[data-panel="zone-heat"] g[data-station="WELD"] .station-value'), '0.70');
    // The re-read the delta triggered agrees, and so does a query for the last hour.
    assert.equal(await settled(page, 'zone-heat'), 'ready');
    const want = await stationKwh(new Date(now - 3_600_000).toISOString(), new Date(now + 60_000).toISOString());
    assert.deepEqual(await floorValues(page, 'g[data-station]'), { ...before, ...want.stations });
    assert.equal(want.stations.WELD, 0.7);
    await page.screenshot({ path: `${SHOTS}/energy-heat-map-live.png`, fullPage: true });
    await page.close();
  });

  it('operations shows /status and the dead letters of deadLetters', async () => {
    const { page } = await openPage(`#/operations?range=1h`);
    assert.equal(await settled(page, 'dead-letters'), 'ready');
    const q = await gql('{ deadLetters(first: 25) { edges { node { position reason } } } }');
    const rows = await page.$$eval('[data-testid="dead-letters"] tbody tr', (trs) =>
      trs.map((tr) => [tr.children[2].textContent, tr.children[3].textContent]),
    );
    assert.deepEqual(
      rows,
      q.data.deadLetters.edges.map((e: { node: { position: string; reason: string } }) => [
        e.node.position,
        e.node.reason,
      ]),
    );
    // The fixture's /status has no connectors: the designed empty state, not an error.
    assert.equal(await settled(page, 'connectors'), 'empty');
    await page.screenshot({ path: `${SHOTS}/operations.png`, fullPage: true });
    await page.close();
  });

  it("alerts: the page shows what the server's alerts subscription sends, and a new alert arrives live", async () => {
    const { page, pageErrors } = await openPage(`#/alerts?range=1h`);
    await page.waitForSelector('[data-testid="alert-rules"]', { timeout: 30_000 });
    const rules = await page.$$eval('[data-testid="alert-rules"] tbody tr', (trs) =>
      Object.fromEntries(trs.map((tr) => [tr.children[0].textContent, tr.children[2].textContent])),
    );
    assert.deepEqual(Object.keys(rules).sort(), [
      'CONNECTOR',
      'SEVERITY_1_REPAIR',
      'STATION_NO_EXITS',
      'ZONE_TEMPERATURE',
    ]);
    // The fixture has no production in the last 15 minutes of the wall clock: every flow station
    // fires; the fixture stack runs no connectors, so that rule says it cannot be evaluated.
    assert.equal(rules['STATION_NO_EXITS'], 'FIRING');
    assert.equal(rules['CONNECTOR'], 'UNAVAILABLE: NO_CONNECTORS');
    const firing = () =>
      page.$$eval('[data-testid="alerts"] tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent ?? ''));
    const q = await gql('{ alerts { alerts { subject } thresholds { noExitMinutes } } }');
    assert.equal(q.errors, undefined);
    assert.deepEqual((await firing()).sort(), q.data.alerts.alerts.map((a: { subject: string }) => a.subject).sort());
    assert.deepEqual((await firing()).sort(), ['station CUT', 'station PAINT', 'station WELD']);
    assert.match(
      (await page.textContent('[data-panel="alerts-rules"]')) ?? '',
      new RegExp(`no exits for ${q.data.alerts.thresholds.noExitMinutes} min`),
    );
    assert.equal(q.data.alerts.thresholds.noExitMinutes, TEST_THRESHOLDS.noExitMinutes);

    // A severity-1 repair opens: the server's next evaluation raises it and the page shows it
    // without a reload; repaired, it clears.
    const order = (status: string): EntityRow => ({
      entity: 'order',
      key: 'R-9',
      version: status,
      deleted: false,
      data: { kind: 'repair', severity: 1, status, subject: 'WELD-1', requested_at: Date.now() - 60_000 },
    });
    entities.push(order('requested'));
    const shows = (subject: string, yes: boolean) =>
      page.waitForFunction(
        ([s, y]) =>
          [...document.querySelectorAll('[data-testid="alerts"] tbody tr')].some(
            (tr) => tr.children[1].textContent === s,
          ) === y,
        [subject, yes] as const,
        { timeout: 15_000 },
      );
    await shows('order R-9', true);
    assert.equal(await page.textContent('.badge'), String((await firing()).length));
    assert.equal(await page.textContent('.badge'), '4');
    await page.screenshot({ path: `${SHOTS}/alerts.png`, fullPage: true });
    entities[entities.length - 1] = order('completed');
    await shows('order R-9', false);
    assert.equal(await page.textContent('.badge'), '3');
    entities.pop();
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  it('alerts need ops:read: signed in without it, the view and the badge say so', async () => {
    const { page } = await openPage(`#/alerts?range=1h`, fixtureToken(['production:read']));
    assert.equal(await settled(page, 'alerts-active'), 'error');
    assert.equal(await page.textContent('[data-panel="alerts-active"] .error strong'), 'FORBIDDEN');
    assert.equal(await page.textContent('.badge'), '?');
    await page.close();
  });

  it('a delta pushed into the serving changes the live panel, and it comes back after the gateway restarts', async () => {
    const { page } = await openPage('#/production?range=24h');
    await page.waitForFunction(
      () => document.querySelector('[data-stat="live.deltas"] .value')?.getAttribute('data-value') === '0',
      undefined,
      { timeout: 30_000 },
    );
    await stack.serving.waitFor(() => stack.serving.openFeeds >= 1, 10_000);
    const before = await statValue(page, 'live.partsStarted');
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    stack.serving.push([
      { metric: 'parts_entered', bucket: now, dims: { station: 'WELD' }, cells: [5] },
      { metric: 'parts_exited', bucket: now, dims: { station: 'WELD' }, cells: [2] },
    ]);
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-stat="live.partsStarted"] .value')?.getAttribute('data-value')) === n,
      before + 5,
      { timeout: 15_000 },
    );
    assert.equal(await statValue(page, 'live.partsCompleted'), 2);
    assert.equal(await statValue(page, 'live.deltas'), 1);
    await page.screenshot({ path: `${SHOTS}/production-live.png`, fullPage: true });

    // Restart the gateway on the same port: the page says so, reconnects by itself, and live
    // updates flow again (a fresh SNAPSHOT, then the next delta).
    const port = Number(new URL(stack.gateway.url).port);
    await stack.gateway.close();
    await page.waitForSelector('.conn[data-conn="reconnecting"]', { timeout: 15_000 });
    await page.screenshot({ path: `${SHOTS}/production-reconnecting.png` });
    const feedsBefore = stack.serving.openFeeds;
    restarted = await createGateway({
      port,
      subgraphs: SUBGRAPH_NAMES.map((name) => ({
        name,
        url: stack.subgraphs[name].url,
        wsUrl: stack.subgraphs[name].wsUrl,
        sdl: stack.subgraphs[name].sdl,
      })),
      health: async () => ({ ready: true, components: {} }),
      routes: createDashboardRoutes(),
      security: { authenticator: createAuthenticator({ secret: FIXTURE_SECRET }, () => undefined) },
      log: (l) => void stack.logs.push(l),
      logging: false,
    });
    await page.waitForSelector('.conn[data-conn="connected"]', { timeout: 30_000 });
    await stack.serving.waitFor(() => stack.serving.openFeeds > feedsBefore || stack.serving.openFeeds >= 1, 15_000);
    await page.waitForFunction(
      () => document.querySelector('[data-stat="live.deltas"] .value')?.getAttribute('data-value') === '0',
      undefined,
      { timeout: 30_000 },
    );
    stack.serving.push([{ metric: 'parts_entered', bucket: now, dims: { station: 'CUT' }, cells: [3] }]);
    await page.waitForFunction(
      () => document.querySelector('[data-stat="live.deltas"] .value')?.getAttribute('data-value') === '1',
      undefined,
      { timeout: 15_000 },
    );
    assert.equal(await settled(page, 'totals'), 'ready');
    await page.close();
  });

  it('sign-in: without a token the panels say so; the token typed in goes on HTTP (Authorization) and graphql-ws (connectionParams)', async () => {
    const { page } = await openPage(`#/production?from=${FROM}&to=${TO}`, null);
    assert.equal(await settled(page, 'totals'), 'error');
    assert.equal(await page.textContent('[data-panel="totals"] .error strong'), 'UNAUTHENTICATED');
    assert.match((await page.textContent('[data-panel="totals"] .error .hint')) ?? '', /Sign in/);
    await page.screenshot({ path: `${SHOTS}/signed-out.png` });
    const auth: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/graphql')) auth.push(req.headers().authorization ?? '');
    });
    const inits: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framesent', (f) => String(f.payload).includes('connection_init') && inits.push(String(f.payload))),
    );
    const token = fixtureToken();
    await page.click('.signin button');
    await page.fill('.signin input[name=token]', token);
    await page.click('.signin-form button[type=submit]');
    assert.equal(await settled(page, 'totals'), 'ready');
    await page.waitForFunction(() => document.querySelector('[data-stat="live.deltas"]') !== null, undefined, {
      timeout: 15_000,
    });
    assert.ok(
      auth.length > 0 && auth.every((a) => a === `Bearer ${token}`),
      `authorization headers: ${JSON.stringify(auth)}`,
    );
    assert.ok(
      inits.some((m) => JSON.parse(m).payload?.authorization === `Bearer ${token}`),
      `connection_init: ${JSON.stringify(inits)}`,
    );
    // It survives a reload (kept in this browser) and signing out drops it.
    await page.reload();
    assert.equal(await page.getAttribute('.signin', 'data-signed-in'), 'yes');
    assert.equal(await settled(page, 'totals'), 'ready');
    await page.click('.signin button');
    assert.equal(await page.getAttribute('.signin', 'data-signed-in'), 'no');
    await page.close();
  });

  it('works with no token against a gateway with auth off', async () => {
    const open = await startFixtureStack([], {
      routes: createDashboardRoutes(),
      security: { authenticator: createAuthenticator({ off: true }, () => undefined) },
    });
    try {
      const { page } = await openPage(
        `#/production?from=${FROM}&to=${TO}`,
        null,
        open.gateway.url.replace(/graphql$/, ''),
      );
      // No rows in this stack: the designed empty state, not an auth error.
      assert.equal(await settled(page, 'floor'), 'ready');
      assert.equal(await settled(page, 'errors'), 'empty');
      await page.waitForFunction(() => document.querySelector('[data-stat="live.deltas"]') !== null, undefined, {
        timeout: 15_000,
      });
      await page.close();
    } finally {
      await open.close();
    }
  });
});
