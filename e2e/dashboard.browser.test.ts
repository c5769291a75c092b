import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { freePort, gql, startMillrace, tempDir, waitFor, type Running } from './harness.ts';
import { earliestMinute, readFacts, sealedHorizon } from '../simulator/ledger.ts';
import { DEFAULT_DASHBOARD_DIST } from '../gateway/dashboard-routes.ts';

// The dashboard served by the real CLI (`millrace up`, embedded defaults, as embedded.test.ts
// starts it), opened in Debian's Chromium with the development token: the production total of a
// sealed range equals the GraphQL answer, which equals the simulator's ledger.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.DASHBOARD_SCREENSHOTS ?? 'screenshots';
const MIN = 60_000;

describe('dashboard on the real CLI (embedded)', () => {
  let app: Running;
  let env: Record<string, string>;
  let browser: Browser;
  let pool: pg.Pool;
  let token: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: run npm test (it installs Debian's chromium)`);
    assert.ok(
      existsSync(`${DEFAULT_DASHBOARD_DIST}/index.html`),
      'the dashboard is not built: npm run build:dashboard',
    );
    mkdirSync(SHOTS, { recursive: true });
    env = {
      MILLRACE_DATA_DIR: await tempDir('millrace-e2e-dash'),
      EMBEDDED_PG_PORT: String(await freePort()),
      TOOL_API_PORT: String(await freePort()),
      PORT: String(await freePort()),
      DATABASE_URL: '',
      REDIS_URL: '',
      KAFKA_BROKERS: '',
      MARIADB_URL: '',
      MSSQL_URL: '',
      ORACLE_URL: '',
      // Simulated time runs 30× so minutes seal within seconds.
      MILLRACE_SIM_SPEED: '30',
      MILLRACE_SIM_RATE: '150',
      MILLRACE_SLICE: '200',
    };
    app = await startMillrace(env);
    const runtime = JSON.parse(await readFile(path.join(env.MILLRACE_DATA_DIR, 'runtime.json'), 'utf8'));
    token = runtime.devToken;
    assert.ok(token, 'the embedded up wrote its development token');
    pool = new pg.Pool({ connectionString: runtime.databaseUrl, max: 2 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    });
  }, 180_000);
  after(async () => {
    await browser?.close();
    await pool?.end();
    await app?.stop();
  });

  it('the production total of a sealed range on the page equals a GraphQL query and the ledger', async () => {
    // Ten sealed minutes of machining, whole minutes.
    const { from, to } = await waitFor(
      'ten sealed minutes in the ledger',
      async () => {
        const [first, sealed] = await Promise.all([earliestMinute(pool), sealedHorizon(pool)]);
        if (first === null || sealed === null) return null;
        const end = Math.floor(sealed / MIN) * MIN;
        return end - first >= 10 * MIN ? { from: first, to: end } : null;
      },
      90_000,
    );
    const truth = (await readFacts(pool, { fact: 'parts_exited', from, to, grainMs: to - from })).reduce(
      (a, p) => a + p.value,
      0,
    );
    assert.ok(truth > 0, 'the simulator made parts in the range');
    const vars = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    // The layers catch up with the sources; then the answer is the ledger's.
    const served = await waitFor(
      'the served total to reach the ledger',
      async () => {
        const r = await gql(
          app.url,
          'query($from: DateTime!, $to: DateTime!) { production(from: $from, to: $to, groupBy: [STATION]) { total { partsCompleted } } }',
          vars,
        );
        const n = r.data?.production.total.partsCompleted;
        return n === truth ? n : null;
      },
      90_000,
    );

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.addInitScript((t) => localStorage.setItem('millrace.token', t), token);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${app.url}/#/production?from=${vars.from}&to=${vars.to}`, { waitUntil: 'load' });
    await page.waitForFunction(
      () => document.querySelector('[data-panel="totals"]')?.getAttribute('data-state') === 'ready',
      undefined,
      { timeout: 30_000 },
    );
    const shown = Number(await page.getAttribute('[data-stat="total.partsCompleted"] .value', 'data-value'));
    assert.equal(shown, served);
    // The alert rules run in this process with its real connectors: every rule is evaluated.
    const alerts = await gql(app.url, '{ alerts { rules { rule state error } } }');
    assert.equal(alerts.errors, undefined, JSON.stringify(alerts.errors));
    assert.deepEqual(
      alerts.data.alerts.rules.filter((r: { state: string }) => r.state === 'UNAVAILABLE'),
      [],
    );
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: `${SHOTS}/cli-production.png`, fullPage: true });
    await page.close();
  }, 240_000);
});
