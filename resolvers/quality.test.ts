import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketsOf, coverRange, createQualityResolvers } from './quality.ts';
import { createFixtureServing, FIXTURE_FLOOR } from './fixture-serving.ts';

const iso = (s: string) => Date.parse(s);
const show = (from: string, to: string) => coverRange(iso(from), iso(to)).map((s) => `${s.grain} ${new Date(s.from).toISOString().slice(5, 16)}..${new Date(s.to).toISOString().slice(5, 16)}`);

test('aligned ranges are read at the coarsest grain', () => {
  assert.deepEqual(show('2026-11-20T00:00Z', '2026-11-22T00:00Z'), ['day 11-20T00:00..11-22T00:00']);
  assert.deepEqual(show('2026-11-22T07:00Z', '2026-11-22T09:00Z'), ['hour 11-22T07:00..11-22T09:00']);
  assert.deepEqual(show('2026-11-22T07:10Z', '2026-11-22T07:20Z'), ['minute 11-22T07:10..11-22T07:20']);
});

test('ragged ranges: minutes and hours at the edges, whole days in the middle, no gap, no overlap', () => {
  const segs = coverRange(iso('2026-11-20T22:30:15Z'), iso('2026-11-23T01:10:00Z'));
  assert.deepEqual(show('2026-11-20T22:30:15Z', '2026-11-23T01:10:00Z'), [
    'minute 11-20T22:30..11-20T23:00',
    'hour 11-20T23:00..11-21T00:00',
    'day 11-21T00:00..11-23T00:00',
    'hour 11-23T00:00..11-23T01:00',
    'minute 11-23T01:00..11-23T01:10',
  ]);
  for (let i = 1; i < segs.length; i++) assert.equal(segs[i].from, segs[i - 1].to);
  assert.equal(segs.reduce((n, s) => n + bucketsOf(s), 0), 30 + 1 + 2 + 1 + 10);
});

test('errorCount over a ragged week costs five small series reads, not 10 000 minute buckets', async () => {
  const serving = createFixtureServing([{ metric: 'station_errors', bucket: iso('2026-11-18T12:00Z'), dims: { station: 'CUT', errorCode: 'E1' }, cells: [3] }]);
  const errorCount = createQualityResolvers().Station!.errorCount as Function;
  const n = await errorCount({ id: 'CUT' }, { from: '2026-11-15T22:30:00Z', to: '2026-11-22T01:10:00Z' }, { serving, floor: FIXTURE_FLOOR }, {});
  assert.equal(n, 3);
  assert.deepEqual(serving.seriesCalls.map((q) => q.grain), ['minute', 'hour', 'day', 'hour', 'minute']);
  assert.ok(serving.seriesCalls.every((q) => q.where?.station === 'CUT'));
});
