import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { createLedger, type Ledger } from './ledger.ts';
import { FACTS } from './ledger-facts.ts';
import { createMachiningSimulator, type MachiningSimulatorOptions } from './machining.ts';
import { createRecordingTopic, type RecordingTopic } from './testing/recording-topic.ts';
import { parseMessage } from './testing/recompute.ts';

// The destination is a RecordingTopic: a test double of our own `Topic` interface (see its file).
const pool = testPool();
const schemas: string[] = [];
const START = Date.UTC(2026, 10, 22, 5, 57, 30);

async function setup(
  overrides: Partial<MachiningSimulatorOptions> = {},
): Promise<{ topic: RecordingTopic; ledger: Ledger; sim: ReturnType<typeof createMachiningSimulator> }> {
  const schema = testSchemaName('ledger_sim');
  schemas.push(schema);
  const ledger = createLedger({ pool, schema });
  await ledger.ensure();
  const topic = createRecordingTopic();
  const sim = createMachiningSimulator({
    topic,
    ledger,
    seed: 42,
    startTime: START,
    warmupMs: 20 * 60_000,
    ...overrides,
  });
  return { topic, ledger, sim };
}

const allFacts = (ledger: Ledger) => ledger.readFacts({ fact: FACTS, from: 0, to: 8.64e15, grainMs: 60_000 });

after(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

describe('machining simulator: determinism', () => {
  it('same seed and run → the same messages and the same ledger, however it is batched', async () => {
    const a = await setup({ maxBatch: 1000 });
    const b = await setup({ maxBatch: 137 });
    await a.sim.runFor({ events: 3000 });
    await b.sim.runFor({ events: 1000 });
    await b.sim.runFor({ events: 2000 });
    assert.ok(a.topic.records.length > 3000);
    assert.deepEqual(
      b.topic.records.map((r) => [r.key, r.value]),
      a.topic.records.map((r) => [r.key, r.value]),
    );
    assert.deepEqual(await allFacts(b.ledger), await allFacts(a.ledger));
    assert.equal(await b.ledger.sealedHorizon(), await a.ledger.sealedHorizon());
  });

  it('another seed → other events', async () => {
    const a = await setup();
    const b = await setup({ seed: 43 });
    await a.sim.runFor({ events: 200 });
    await b.sim.runFor({ events: 200 });
    assert.notDeepEqual(
      b.topic.records.map((r) => r.value),
      a.topic.records.map((r) => r.value),
    );
  });
});

describe('machining simulator: the wire format and the line', () => {
  let topic: RecordingTopic;
  before(async () => {
    const s = await setup();
    await s.sim.runFor({ events: 20_000 });
    topic = s.topic;
  });

  it('sends exactly the contract fields, keyed by partId', () => {
    const valid = topic.records.map((r) => ({ r, e: parseMessage(r.value) })).filter((x) => x.e !== null);
    assert.ok(valid.length > 19_000);
    for (const { r, e } of valid) {
      assert.equal(r.key, e!.partId);
      assert.deepEqual(Object.keys(JSON.parse(r.value)), [
        'eventId',
        'kind',
        'partId',
        'station',
        'machine',
        'operator',
        'at',
        'nextStation',
        'errorCode',
        'cycleTimeMs',
      ]);
      assert.match(JSON.parse(r.value).operator, /^E\d{4}$/);
      if (e!.kind === 'exit') assert.ok(e!.cycleTimeMs! >= 5_000 && e!.cycleTimeMs! <= 400_000);
      else assert.equal(e!.cycleTimeMs, null);
    }
  });

  it('routes parts along the line, failed tests through rework, and errs most at TST and BND', () => {
    const exits = topic.records.map((r) => parseMessage(r.value)).filter((e) => e?.kind === 'exit');
    const next = new Map<string, Set<string | null>>();
    const errors = new Map<string, number>();
    for (const e of exits) {
      next.set(e!.station, (next.get(e!.station) ?? new Set()).add(e!.nextStation));
      if (e!.errorCode) errors.set(e!.station, (errors.get(e!.station) ?? 0) + 1);
    }
    assert.deepEqual([...next.get('RCV')!], ['INS']);
    assert.deepEqual([...next.get('BRN')!], ['TST']);
    assert.deepEqual([...next.get('REW')!], ['TST']);
    assert.ok(next.get('TST')!.has('REW') && next.get('TST')!.has('MRK'));
    assert.deepEqual([...next.get('SHP')!], [null]);
    const ranked = [...errors].sort((x, y) => y[1] - x[1]).map(([s]) => s);
    assert.deepEqual(ranked.slice(0, 2), ['TST', 'BND']);
  });
});

describe('machining simulator: injected faults at default rates', () => {
  it('produces immediate and delayed duplicates, bounded late events and every malformed flavour, all in the ledger', async () => {
    const { topic, ledger, sim } = await setup();
    await sim.runFor({ events: 5000 });
    const firstIndex = new Map<string, number>();
    let immediate = 0,
      delayed = 0,
      late = 0,
      maxLateness = 0,
      maxAt = -Infinity;
    const malformed: Record<string, number> = {};
    topic.records.forEach((r, i) => {
      const e = parseMessage(r.value);
      if (!e) {
        malformed[classify(r.value)] = (malformed[classify(r.value)] ?? 0) + 1;
        return;
      }
      const first = firstIndex.get(e.eventId);
      if (first !== undefined) {
        assert.equal(r.value, topic.records[first].value, 'a duplicate is the identical message');
        if (i - first === 1) immediate++;
        else delayed++;
        return;
      }
      firstIndex.set(e.eventId, i);
      if (e.at < maxAt) {
        late++;
        maxLateness = Math.max(maxLateness, maxAt - e.at);
      }
      maxAt = Math.max(maxAt, e.at);
    });
    assert.ok(immediate > 0 && delayed > 0, `duplicates: ${immediate} immediate, ${delayed} delayed`);
    assert.ok(late > 0 && maxLateness <= 300_000, `late: ${late}, max lateness ${maxLateness} ms`);
    for (const f of ['not_json', 'missing_field', 'bad_cycle_time', 'bad_at'])
      assert.ok((malformed[f] ?? 0) > 0, `malformed ${f}`);
    assert.deepEqual(await ledger.faultCounts(), {
      'duplicate:immediate': immediate,
      'duplicate:delayed': delayed,
      late,
      ...Object.fromEntries(Object.entries(malformed).map(([k, v]) => [`malformed:${k}`, v])),
    });
  });
});

function classify(value: string): string {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(value);
  } catch {
    return 'not_json';
  }
  if (v.at === 'yesterday') return 'bad_at';
  if (v.cycleTimeMs === 'abc') return 'bad_cycle_time';
  return ['eventId', 'kind', 'partId', 'station', 'at'].some((k) => !(k in v)) ? 'missing_field' : 'unknown';
}
