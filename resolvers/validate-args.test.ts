import { test } from 'vitest';
import assert from 'node:assert/strict';
import { GraphQLError } from 'graphql';
import { parseDateTime, parseRange } from './validate-args.ts';
import { checkIds, selectStations } from './shared/window.ts';
import { createDirectory } from './shared/directory.ts';
import { FIXTURE_ENTITIES } from '../serving/testing/fixture-serving.ts';

function badInput(fn: () => unknown, message: RegExp) {
  assert.throws(
    fn,
    (err: unknown) =>
      err instanceof GraphQLError && err.extensions.code === 'BAD_USER_INPUT' && message.test(err.message),
  );
}

test('DateTime must be ISO-8601 with a zone', () => {
  assert.equal(parseDateTime('from', '2026-11-22T07:40:00.000Z'), Date.UTC(2026, 10, 22, 7, 40));
  assert.equal(parseDateTime('from', '2026-11-22T08:40+01:00'), Date.UTC(2026, 10, 22, 7, 40));
  for (const bad of ['2026-11-22T07:40:00', '2026-11-22', 'yesterday', '2026-13-45T99:00:00Z', '']) {
    badInput(() => parseDateTime('from', bad), /`from` must be an ISO-8601/);
  }
});

test('a range must be ordered and, with a limit, small enough once rounded out to the grain', () => {
  assert.deepEqual(parseRange({ from: '2026-11-22T07:00:00Z', to: '2026-11-22T08:00:00Z' }), {
    from: Date.UTC(2026, 10, 22, 7),
    to: Date.UTC(2026, 10, 22, 8),
  });
  badInput(() => parseRange({ from: '2026-11-22T08:00:00Z', to: '2026-11-22T08:00:00Z' }), /must be before/);
  const limit = { grain: 'minute' as const, maxBuckets: 60 };
  assert.ok(parseRange({ from: '2026-11-22T07:00:00Z', to: '2026-11-22T08:00:00Z' }, limit));
  // 07:00:30 rounds down to 07:00, 08:00:30 up to 08:01: 61 buckets.
  badInput(
    () => parseRange({ from: '2026-11-22T07:00:30Z', to: '2026-11-22T08:00:30Z' }, limit),
    /61 minute buckets; the limit is 60/,
  );
});

test('an unknown station, zone or department is BAD_USER_INPUT naming the known ones, never an empty answer', () => {
  const dir = createDirectory(FIXTURE_ENTITIES.filter((r) => r.entity === 'station'));
  assert.deepEqual(selectStations(dir, { zones: ['A'] }), ['CUT', 'WELD']);
  assert.deepEqual(selectStations(dir, { zones: ['A'], departments: ['Machining'], stations: ['WELD', 'PAINT'] }), [
    'WELD',
  ]);
  assert.deepEqual(checkIds('station', null, ['CUT']), null);
  badInput(() => selectStations(dir, { stations: ['weld'] }), /unknown station "weld"; known: CUT, WELD, PAINT/);
  badInput(() => selectStations(dir, { zones: ['Z9'] }), /unknown zone "Z9"; known: A, B/);
});
