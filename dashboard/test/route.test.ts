import { it } from 'vitest';
import assert from 'node:assert/strict';
import { formatRoute, parseRoute, windowOf } from '../src/route.ts';

it('reads a view and a relative or absolute range from the URL, and writes it back the same', () => {
  assert.deepEqual(parseRoute('#/energy?range=7d'), { view: 'energy', preset: '7d', from: null, to: null });
  const abs = parseRoute('#/quality?from=2026-11-22T00:00:00Z&to=2026-11-22T08:00:00Z');
  assert.deepEqual(abs, {
    view: 'quality',
    preset: null,
    from: '2026-11-22T00:00:00.000Z',
    to: '2026-11-22T08:00:00.000Z',
  });
  assert.deepEqual(parseRoute(formatRoute(abs)), abs);
  assert.equal(formatRoute(parseRoute('#/energy?range=7d')), '#/energy?range=7d');
});

it('falls back to the production view and 24 h on anything it cannot read', () => {
  for (const bad of ['', '#/nope?range=2y', '#/production?from=2026-11-22&to=2026-11-21', '#/production?from=x&to=y']) {
    const r = parseRoute(bad);
    assert.equal(r.view, 'production', bad);
    assert.equal(r.preset, '24h', bad);
  }
});

it('turns a range into a window with a grain that keeps charts to a few hundred points', () => {
  const now = Date.parse('2026-11-22T08:00:30Z');
  const w = windowOf(parseRoute('#/production?range=1h'), now);
  // Relative windows end at the next whole minute (stable within a minute) and follow the clock.
  assert.deepEqual(
    [w.from, w.to, w.grain, w.live],
    ['2026-11-22T07:01:00.000Z', '2026-11-22T08:01:00.000Z', 'MINUTE', true],
  );
  assert.equal(windowOf(parseRoute('#/production?range=24h'), now).grain, 'HOUR');
  assert.deepEqual(
    [
      windowOf(parseRoute('#/production?range=30d'), now).grain,
      windowOf(parseRoute('#/production?range=30d'), now).periodGrain,
    ],
    ['DAY', 'DAY'],
  );
  assert.equal(windowOf(parseRoute('#/production?range=365d'), now).grain, 'WEEK');
  const abs = windowOf(parseRoute('#/production?from=2026-11-22T00:00:00Z&to=2026-11-22T08:00:00Z'), now);
  assert.deepEqual(
    [abs.from, abs.to, abs.grain, abs.periodGrain, abs.live],
    ['2026-11-22T00:00:00.000Z', '2026-11-22T08:00:00.000Z', 'HOUR', 'SHIFT', false],
  );
});
