/**
 * Dashboard bench in Debian's Chromium: first render of the production page, and the page's heap
 * over minutes of live updates.
 *
 *   npm run build:dashboard && npx tsx bench/dashboard.ts [--loads 5] [--minutes 10] [--deltas-per-sec 2]
 *
 * Runs the real gateway and subgraphs over the fixture serving, with 8 hours of minute rows for
 * three stations ending now, so the page's relative range (last 24 h) has figures and every delta
 * moves the live panel and triggers the (throttled) report re-reads.
 * 1. First render: a fresh page per load; the time from navigation start to every production panel
 *    (floor, totals, trend, periods, errors) out of its loading state, read in the page. Goal < 2 s.
 * 2. Heap: one page; deltas pushed at a steady rate for `minutes`; the JS heap after a forced GC is
 *    sampled every 30 s. Printed: the first sample (after 30 s of warm-up), the last, and the growth.
 *    Goal: < 10 % over 10 minutes.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { DEFAULT_DASHBOARD_DIST } from '../gateway/dashboard-routes.ts';
import { productionRows, startDashboardStack } from '../dashboard/testing/start-dashboard-stack.ts';
import { fixtureToken } from '../gateway/testing/start-fixture-stack.ts';

const { values: args } = parseArgs({
  options: {
    loads: { type: 'string', default: '5' },
    minutes: { type: 'string', default: '10' },
    'deltas-per-sec': { type: 'string', default: '2' },
  },
});
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(`${DEFAULT_DASHBOARD_DIST}/index.html`))
  throw new Error('build the dashboard first: npm run build:dashboard');

const now = Math.floor(Date.now() / 60_000) * 60_000;
const stack = await startDashboardStack({}, productionRows(now - 8 * 3_600_000, now));
stack.setReady(true);
const base = stack.gateway.url.replace(/graphql$/, '');
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
});
const PANELS = ['floor', 'totals', 'trend', 'periods', 'errors'];

try {
  // 1. First render.
  const times: number[] = [];
  for (let i = 0; i < Number(args.loads); i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await context.addInitScript((t) => localStorage.setItem('millrace.token', t), fixtureToken());
    const page = await context.newPage();
    await page.goto(`${base}#/production?range=24h`);
    // A string, not a function: tsx's esbuild would wrap named inner functions in a helper the page lacks.
    const ms = (await page.evaluate(`new Promise((resolve) => {
      const panels = ${JSON.stringify(PANELS)};
      const check = () => panels.every((p) => ['ready', 'empty'].includes(document.querySelector('[data-panel="' + p + '"]')?.getAttribute('data-state') ?? ''))
        ? resolve(performance.now()) : requestAnimationFrame(check);
      check();
    })`)) as number;
    const states = await page.$$eval('[data-panel]', (els) =>
      els.map((e) => `${(e as HTMLElement).dataset.panel}=${(e as HTMLElement).dataset.state}`),
    );
    times.push(ms);
    console.log(`load ${i + 1}: production page rendered in ${ms.toFixed(0)} ms (${states.join(' ')})`);
    await context.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `first render: median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms over ${times.length} cold loads (goal < 2000 ms)`,
  );

  // 2. Heap under live updates.
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.addInitScript((t) => localStorage.setItem('millrace.token', t), fixtureToken());
  const cdp = await page.context().newCDPSession(page);
  await page.goto(`${base}#/production?range=24h`);
  await page.waitForSelector('[data-stat="live.deltas"]', { timeout: 30_000 });
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const stations = ['CUT', 'WELD', 'PAINT'];
  let pushed = 0;
  const pusher = setInterval(
    () => {
      const minute = Math.floor(Date.now() / 60_000) * 60_000;
      stack.serving.push(
        stations.flatMap((station, k) => [
          { metric: 'parts_entered', bucket: minute, dims: { station }, cells: [1 + ((pushed + k) % 3)] },
          { metric: 'parts_exited', bucket: minute, dims: { station }, cells: [1 + ((pushed + k + 1) % 3)] },
        ]),
      );
      pushed++;
    },
    1000 / Number(args['deltas-per-sec']),
  );
  const end = Date.now() + Number(args.minutes) * 60_000;
  await new Promise((r) => setTimeout(r, 30_000));
  const first = await heap();
  console.log(`heap after 30 s warm-up: ${(first / 1e6).toFixed(2)} MB`);
  let last = first;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(30_000, Math.max(0, end - Date.now()))));
    last = await heap();
    const deltas = await page.getAttribute('[data-stat="live.deltas"] .value', 'data-value');
    console.log(
      `  ${new Date().toISOString().slice(11, 19)} heap ${(last / 1e6).toFixed(2)} MB, deltas pushed ${pushed}, shown ${deltas}`,
    );
  }
  clearInterval(pusher);
  console.log(
    `heap growth over ${args.minutes} min of live updates (${pushed} deltas): ${(((last - first) / first) * 100).toFixed(1)} % (${(first / 1e6).toFixed(2)} → ${(last / 1e6).toFixed(2)} MB; goal < 10 %)`,
  );
} finally {
  await browser.close();
  await stack.close();
}
