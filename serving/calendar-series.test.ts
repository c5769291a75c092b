import { test } from 'vitest';
import assert from 'node:assert/strict';
import { bucketsOf, coverRange, readCalendarSeries } from './calendar-series.ts';
import { parseShifts } from './calendar.ts';
import { createFixtureServing } from './testing/fixture-serving.ts';

const iso = (s: string) => Date.parse(s);
const show = (from: string, to: string) =>
  coverRange(iso(from), iso(to)).map(
    (s) => `${s.grain} ${new Date(s.from).toISOString().slice(5, 16)}..${new Date(s.to).toISOString().slice(5, 16)}`,
  );
const shifts = parseShifts('A=06:00,B=14:00,C=22:00');

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
  assert.equal(
    segs.reduce((n, s) => n + bucketsOf(s), 0),
    30 + 1 + 2 + 1 + 10,
  );
});

// Random minute rows over three days around the spring change in Berlin (2026-03-29).
function rows(seed: number) {
  const out = [];
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 600; i++) {
    const bucket = iso('2026-03-27T20:00Z') + Math.floor(next() * 3 * 24 * 60) * 60_000;
    out.push({
      metric: 'parts_exited',
      bucket,
      dims: { station: next() < 0.5 ? 'CUT' : 'WELD' },
      cells: [1 + Math.floor(next() * 5)],
    });
  }
  return out;
}

test('calendar buckets in a time zone: each point lands in the local day/shift that holds it, nothing lost or doubled (DST day included)', async () => {
  const data = rows(7);
  const serving = createFixtureServing(data);
  const from = iso('2026-03-27T23:00Z');
  const to = iso('2026-03-30T22:00Z');
  for (const grain of ['day', 'shift', 'hour', 'week'] as const) {
    const r = await readCalendarSeries(serving, {
      metric: 'parts_exited',
      from,
      to,
      grain,
      zone: 'Europe/Berlin',
      shifts,
      maxBuckets: 1000,
    });
    // Expected: each raw minute row summed into the bucket whose [start, end) holds it.
    const expected = new Map<string, number>();
    for (const row of data) {
      const b = r.buckets.findIndex((x) => row.bucket >= x.start && row.bucket < x.end);
      if (b < 0) continue;
      const k = `${b}|${row.dims.station}`;
      expected.set(k, (expected.get(k) ?? 0) + row.cells[0]);
    }
    const actual = new Map(r.points.map((p) => [`${p.bucket}|${p.dims.station}`, p.cells[0]]));
    assert.deepEqual(actual, expected, grain);
  }
  const days = await readCalendarSeries(serving, {
    metric: 'parts_exited',
    from,
    to,
    grain: 'day',
    zone: 'Europe/Berlin',
    shifts,
    maxBuckets: 1000,
  });
  assert.deepEqual(
    days.buckets.map((b) => [b.label, (b.end - b.start) / 3_600_000]),
    [
      ['2026-03-28', 24],
      ['2026-03-29', 23],
      ['2026-03-30', 24],
    ],
  );
});

test('`in` filters keep only the listed values; one value is passed down to the serving layer', async () => {
  const serving = createFixtureServing(rows(3));
  const r = await readCalendarSeries(serving, {
    metric: 'parts_exited',
    from: iso('2026-03-28T00:00Z'),
    to: iso('2026-03-29T00:00Z'),
    grain: null,
    zone: 'UTC',
    shifts,
    maxBuckets: 10,
    where: { station: ['WELD'] },
  });
  assert.deepEqual(new Set(r.points.map((p) => p.dims.station)), new Set(['WELD']));
  assert.ok(serving.seriesCalls.every((q) => q.where?.station === 'WELD'));
  await assert.rejects(
    readCalendarSeries(serving, {
      metric: 'parts_exited',
      from: 0,
      to: 60_000,
      grain: null,
      zone: 'UTC',
      shifts,
      maxBuckets: 10,
      where: { machine: ['x'] },
    }),
    /has no dimension machine/,
  );
});

test('a ragged week is five small reads, not 10 000 minute buckets', async () => {
  const serving = createFixtureServing([
    {
      metric: 'station_errors',
      bucket: iso('2026-11-18T12:00Z'),
      dims: { station: 'CUT', errorCode: 'E1' },
      cells: [3],
    },
  ]);
  const r = await readCalendarSeries(serving, {
    metric: 'station_errors',
    from: iso('2026-11-15T22:30:00Z'),
    to: iso('2026-11-22T01:10:00Z'),
    grain: null,
    zone: 'UTC',
    shifts,
    maxBuckets: 10,
  });
  assert.equal(r.points[0].cells[0], 3);
  assert.deepEqual(serving.seriesCalls.map((q) => q.grain).sort(), ['day', 'hour', 'hour', 'minute', 'minute']);
});
