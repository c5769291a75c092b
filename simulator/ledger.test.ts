import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { createLedger } from './ledger.ts';
import { CYCLE_TIME_BOUNDS_MS, FactAccumulator, cycleTimeBucket } from './ledger-facts.ts';
import type { MachiningEvent } from './wire.ts';

const pool = testPool();
const schemas: string[] = [];
const T = Date.UTC(2026, 10, 22, 6, 0);

async function ledger() {
  const schema = testSchemaName('ledger_unit');
  schemas.push(schema);
  const l = createLedger({ pool, schema });
  await l.ensure();
  return l;
}

const ev = (over: Partial<MachiningEvent>): MachiningEvent => ({
  eventId: 'e',
  kind: 'exit',
  partId: 'p',
  station: 'TST',
  machine: 'TST-1',
  operator: 'E0001',
  at: T,
  nextStation: 'MRK',
  errorCode: null,
  cycleTimeMs: 20_000,
  ...over,
});

after(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

describe('ledger facts', () => {
  it('uses the report bounds: bucket i holds bounds[i-1] < v ≤ bounds[i], the last one v > 300 s', () => {
    assert.deepEqual([...CYCLE_TIME_BOUNDS_MS], [15_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000]);
    assert.deepEqual(
      [0, 15_000, 15_001, 30_000, 59_999, 60_000, 300_000, 300_001, 400_000].map(cycleTimeBucket),
      [0, 0, 1, 1, 3, 3, 7, 8, 8],
    );
  });

  it('turns an exit into exited, error, count, sum and bucket facts of its minute', () => {
    const acc = new FactAccumulator();
    acc.add(ev({ kind: 'enter', cycleTimeMs: null, nextStation: null, at: T + 59_999 }));
    acc.add(ev({ errorCode: 'E12', nextStation: 'REW', at: T + 60_000, cycleTimeMs: 95_000 }));
    const rows = acc.take().map((r) => [r.fact, r.minute - T, r.station, r.errorCode, r.value]);
    assert.deepEqual(rows, [
      ['parts_entered', 0, 'TST', null, 1],
      ['parts_exited', 60_000, 'TST', null, 1],
      ['station_errors', 60_000, 'TST', 'E12', 1],
      ['cycle_time_count', 60_000, 'TST', null, 1],
      ['cycle_time_sum', 60_000, 'TST', null, 95_000],
      ['cycle_time_bucket_5', 60_000, 'TST', null, 1],
      ['operator_task_ms', 60_000, 'TST', 'E0001', 95_000],
    ]);
    assert.equal(acc.size, 0, 'take() empties the accumulator');
  });
});

describe('ledger in Postgres', () => {
  it('adds batches, aggregates to a grain per dims, and only moves the horizon forward', async () => {
    const l = await ledger();
    assert.equal(await l.sealedHorizon(), null);
    assert.equal(await l.earliestMinute(), null);
    const facts = [
      { fact: 'station_errors', minute: T + 120_000, station: 'BND', errorCode: 'E31', value: 2 },
      { fact: 'station_errors', minute: T + 60_000, station: 'BND', errorCode: 'E47', value: 1 },
      { fact: 'parts_exited', minute: T + 3_600_000, station: 'BND', errorCode: null, value: 5 },
    ];
    await l.record({ facts, faults: [], sealedBefore: T + 180_000, events: 8, messages: 9 });
    await l.record({
      facts: facts.slice(0, 1),
      faults: [{ kind: 'malformed', detail: 'bad_at', eventId: null, eventAt: T, raw: '{"at":"yesterday"}' }],
      sealedBefore: T + 120_000,
      events: 2,
      messages: 3,
    });
    assert.equal(await l.sealedHorizon(), T + 180_000);
    assert.equal(await l.earliestMinute(), T + 60_000);
    assert.deepEqual(await l.faultCounts(), { 'malformed:bad_at': 1 });
    const minutes = await l.readFacts({ fact: 'station_errors', from: T, to: T + 3_600_000, grainMs: 60_000 });
    assert.deepEqual(
      minutes.map((p) => [p.bucket - T, p.errorCode, p.value]),
      [
        [60_000, 'E47', 1],
        [120_000, 'E31', 4],
      ],
    );
    const hours = await l.readFacts({
      fact: ['station_errors', 'parts_exited'],
      from: T,
      to: T + 7_200_000,
      grainMs: 3_600_000,
    });
    assert.deepEqual(
      hours.map((p) => [p.fact, p.bucket - T, p.station, p.errorCode, p.value]),
      [
        ['station_errors', 0, 'BND', 'E31', 4],
        ['station_errors', 0, 'BND', 'E47', 1],
        ['parts_exited', 3_600_000, 'BND', null, 5],
      ],
    );
    assert.deepEqual(
      await l.readFacts({ fact: 'parts_exited', from: T, to: T + 3_600_000, grainMs: 60_000 }),
      [],
      'to is exclusive',
    );
  });

  it('refuses a schema name that is not a plain identifier', () => {
    assert.throws(() => createLedger({ pool, schema: 'ledger; DROP TABLE x' }), /invalid schema name/);
  });
});
