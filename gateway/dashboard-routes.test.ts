import { it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureStack, type FixtureStack } from './testing/start-fixture-stack.ts';
import { createDashboardRoutes } from './dashboard-routes.ts';

// The dashboard's routes on the real gateway, over a dist folder made here (no build needed).
let stack: FixtureStack;
let dist: string;
let base: string;

before(async () => {
  dist = mkdtempSync(join(tmpdir(), 'millrace-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>');
  writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'app-1a2b.css'), 'body{}');
  writeFileSync(join(dist, 'secret.txt'), 'outside assets');
  stack = await startFixtureStack([], { routes: createDashboardRoutes({ distDir: dist }) });
  base = stack.gateway.url.replace(/graphql$/, '');
});
after(async () => {
  await stack?.close();
  rmSync(dist, { recursive: true, force: true });
});

it('serves index.html at / (revalidated) and hashed assets with their type, cached for good', async () => {
  const index = await fetch(base);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.match(await index.text(), /app-1a2b\.js/);
  const js = await fetch(`${base}assets/app-1a2b.js`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(await js.text(), 'console.log(1)');
  assert.equal((await fetch(`${base}assets/app-1a2b.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
  const head = await fetch(`${base}assets/app-1a2b.js`, { method: 'HEAD' });
  assert.equal(head.headers.get('content-length'), '14');
});

it('answers 404 for missing assets and paths outside dist/assets, 405 for writes', async () => {
  assert.equal((await fetch(`${base}assets/nope.js`)).status, 404);
  assert.equal((await fetch(`${base}assets/%2e%2e/secret.txt`)).status, 404);
  assert.equal((await fetch(`${base}assets/..%2fsecret.txt`)).status, 404);
  assert.equal((await fetch(base, { method: 'POST', body: 'x' })).status, 405);
});

it('keeps GraphQL at /graphql and other paths with the runtime (the / route matches only /)', async () => {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...stack.headers },
    body: JSON.stringify({ query: '{ stations { id } }' }),
  });
  assert.deepEqual(
    ((await res.json()) as { data: { stations: { id: string }[] } }).data.stations.map((s) => s.id),
    ['CUT', 'WELD', 'PAINT'],
  );
  assert.equal((await fetch(`${base}nothing-here`)).status, 404);
  assert.equal((await fetch(`${base}healthz`)).status, 503, 'healthz still answered by its own route');
});

it('serves no /dashboard-config.json: the alert thresholds come with the alerts subscription', async () => {
  assert.equal((await fetch(`${base}dashboard-config.json`)).status, 404);
});

it('says how to build the dashboard when dist is missing', async () => {
  const bare = await startFixtureStack([], {
    routes: createDashboardRoutes({ distDir: join(dist, 'missing') }),
  });
  try {
    const res = await fetch(bare.gateway.url.replace(/graphql$/, ''));
    assert.equal(res.status, 404);
    assert.match(await res.text(), /npm run build:dashboard/);
  } finally {
    await bare.close();
  }
});
