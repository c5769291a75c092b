import { it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { AUTH, startFixtureStack, type FixtureStack } from './testing/start-fixture-stack.ts';

// GraphiQL in a real browser with the network cut off: analysts and factory machines are often
// offline, so every asset must come from the gateway itself. Debian's chromium (npm test installs it).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let stack: FixtureStack;
let browser: Browser;

before(async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `no browser at ${CHROMIUM}: run npm test (it installs Debian's chromium) or set CHROMIUM_PATH`,
  );
  // GraphiQL sends the token by default, as the embedded `npm start` configures it with the dev token.
  stack = await startFixtureStack([], { security: { graphiqlHeaders: { ...AUTH } } });
  stack.setReady(true);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

it('loads GraphiQL with no request leaving the machine, and runs a query from it', async () => {
  const page = await browser.newPage();
  const external: string[] = [];
  // Offline: anything not served by the gateway on loopback is refused (and remembered).
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    external.push(url.href);
    return route.abort();
  });
  await page.goto(stack.gateway.url, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
  assert.deepEqual(external, [], 'GraphiQL asked for assets off the machine');
  // It opens on the daily floor summary, not an empty editor.
  await page.waitForFunction(
    () => document.querySelector('.graphiql-query-editor')?.textContent?.includes('DailyFloorSummary'),
    undefined,
    { timeout: 30_000 },
  );
  // Put a query into the (Monaco) editor as a person would paste it, then run it.
  await page.locator('.graphiql-query-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // Named as the example: GraphiQL picks the operation name from the editor after a debounce, and
  // a click before it has re-parsed would send the old name ("Cannot infer operation …"); with the
  // same name, either is right.
  await page.keyboard.insertText('query DailyFloorSummary { stations { id name } }');
  // Run it only once the editor holds it (and no longer the example), else the example may run.
  await page.waitForFunction(
    () => {
      const t = document.querySelector('.graphiql-query-editor')?.textContent ?? '';
      return t.includes('stations') && !t.includes('production(');
    },
    undefined,
    { timeout: 30_000 },
  );
  await page.locator('.graphiql-execute-button').click();
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-response')?.textContent ?? '').includes('"'),
    undefined,
    {
      timeout: 30_000,
    },
  );
  await page.waitForFunction(
    () => /"stations"|"errors"/.test(document.querySelector('.graphiql-response')?.textContent ?? ''),
    undefined,
    { timeout: 30_000 },
  );
  const text = await page.locator('.graphiql-response').textContent();
  assert.match(text ?? '', /"stations"[\s\S]*"id"/, `GraphiQL answered: ${text}`);
  await page.screenshot({ path: process.env.GRAPHIQL_SCREENSHOT ?? '/tmp/graphiql.png' });
  await page.close();
});
