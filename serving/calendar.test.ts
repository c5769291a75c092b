import { test } from 'vitest';
import assert from 'node:assert/strict';
import { calendarBuckets, checkTimeZone, fromLocal, parseShifts, type CalendarGrain } from './calendar.ts';

const iso = (s: string) => Date.parse(s);
const shifts = parseShifts('C=22:00,A=06:00,B=14:00');
const show = (from: string, to: string, grain: CalendarGrain, zone: string) =>
  calendarBuckets({ from: iso(from), to: iso(to), grain, zone, shifts, maxBuckets: 1000 }).map(
    (b) => `${b.label} ${new Date(b.start).toISOString().slice(0, 16)} ${(b.end - b.start) / 3_600_000}h`,
  );

test('shifts are parsed, sorted by start and checked', () => {
  assert.deepEqual(
    shifts.map((s) => s.id),
    ['A', 'B', 'C'],
  );
  assert.throws(() => parseShifts('A=6'), /NAME=HH:MM/);
  assert.throws(() => parseShifts('A=06:00,A=14:00'), /unique/);
  assert.throws(() => parseShifts('A=25:00'), /NAME=HH:MM/);
});

test('days follow the zone, including the 23-hour spring and 25-hour autumn days', () => {
  assert.deepEqual(show('2026-03-28T12:00Z', '2026-03-30T01:00Z', 'day', 'Europe/Berlin'), [
    '2026-03-28 2026-03-27T23:00 24h',
    '2026-03-29 2026-03-28T23:00 23h',
    '2026-03-30 2026-03-29T22:00 24h',
  ]);
  assert.deepEqual(show('2026-10-25T00:00Z', '2026-10-25T12:00Z', 'day', 'Europe/Berlin'), [
    '2026-10-25 2026-10-24T22:00 25h',
  ]);
  assert.deepEqual(show('2026-03-28T12:00Z', '2026-03-29T01:00Z', 'day', 'UTC'), [
    '2026-03-28 2026-03-28T00:00 24h',
    '2026-03-29 2026-03-29T00:00 24h',
  ]);
});

test('shifts follow the zone; the night shift that holds the spring change is 7 hours', () => {
  assert.deepEqual(show('2026-03-28T21:30Z', '2026-03-29T06:00Z', 'shift', 'Europe/Berlin'), [
    '2026-03-28 C 2026-03-28T21:00 7h',
    '2026-03-29 A 2026-03-29T04:00 8h',
  ]);
  assert.deepEqual(show('2026-11-22T05:00Z', '2026-11-22T15:00Z', 'shift', 'UTC'), [
    '2026-11-21 C 2026-11-21T22:00 8h',
    '2026-11-22 A 2026-11-22T06:00 8h',
    '2026-11-22 B 2026-11-22T14:00 8h',
  ]);
});

test('weeks start on Monday with ISO numbers; months in the zone; minutes and hours absolute', () => {
  assert.deepEqual(show('2026-01-01T00:00Z', '2026-01-06T00:00Z', 'week', 'UTC'), [
    '2026-W01 2025-12-29T00:00 168h',
    '2026-W02 2026-01-05T00:00 168h',
  ]);
  assert.deepEqual(show('2026-03-15T00:00Z', '2026-04-02T00:00Z', 'month', 'America/New_York'), [
    '2026-03 2026-03-01T05:00 743h',
    '2026-04 2026-04-01T04:00 720h',
  ]);
  assert.deepEqual(show('2026-03-15T00:30Z', '2026-03-15T02:00Z', 'hour', 'Asia/Kolkata'), [
    '2026-03-15 05:30 2026-03-15T00:00 1h',
    '2026-03-15 06:30 2026-03-15T01:00 1h',
  ]);
});

test('local times in a gap resolve after it; repeated ones to the first; limits and zones are checked', () => {
  assert.equal(fromLocal('Europe/Berlin', 2026, 3, 29, 150), iso('2026-03-29T01:30Z'));
  assert.equal(fromLocal('Europe/Berlin', 2026, 10, 25, 150), iso('2026-10-25T00:30Z'));
  assert.throws(
    () => calendarBuckets({ from: 0, to: 10 * 86_400_000, grain: 'hour', zone: 'UTC', shifts, maxBuckets: 100 }),
    /240 hour buckets; the limit is 100/,
  );
  assert.throws(
    () => checkTimeZone('Mars/Olympus'),
    (e: Error & { code?: string }) => e.code === 'BAD_USER_INPUT',
  );
});
