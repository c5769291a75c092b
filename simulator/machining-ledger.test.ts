import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { createLedger, type Ledger } from './ledger.ts';
import { FACTS } from './ledger-facts.ts';
import { createMachiningSimulator, type MachiningSimulatorOptions } from './machining.ts';
import { createRecordingTopic, type RecordingTopic } from './testing/recording-topic.ts';
import { keyed, parseMessage, recomputeFacts } from './testing/recompute.ts';

// The destination is a RecordingTopic: a test double of our own `Topic` interface (see its file).
const pool = testPool();
const schemas: string[] = [];
const START = Date.UTC(2026, 10, 22, 13, 58, 10);

async function setup(overrides: Partial<MachiningSimulatorOptions> = {}) {
  const schema = testSchemaName('ledger_sim');
  schemas.push(schema);
  const ledger = createLedger({ pool, schema });
  await ledger.ensure();
  const topic = createRecordingTopic();
  const sim = createMachiningSimulator({
    topic,
    ledger,
    seed: 7,
    startTime: START,
    warmupMs: 20 * 60_000,
    maxBatch: 300,
    ...overrides,
  });
  return { topic, ledger, sim };
}

async function assertLedgerMatchesTopic(ledger: Ledger, topic: RecordingTopic, grainMs = 60_000): Promise<void> {
  const fromLedger = keyed(await ledger.readFacts({ fact: FACTS, from: 0, to: 8.64e15, grainMs }));
  assert.deepEqual(fromLedger, recomputeFacts(topic.records, grainMs));
}

after(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

describe('ledger: exactly what was acknowledged', () => {
  it('counts every unique acked eventId once, malformed never (minute and hour grains)', async () => {
    const { topic, ledger, sim } = await setup();
    const stats = await sim.runFor({ events: 4000 });
    await assertLedgerMatchesTopic(ledger, topic);
    await assertLedgerMatchesTopic(ledger, topic, 3_600_000);
    const unique = new Set(topic.records.map((r) => parseMessage(r.value)?.eventId).filter(Boolean));
    assert.equal(stats.events, unique.size);
    assert.equal(stats.messages, topic.records.length);
  });

  it('seals a minute only once all its events are sent: nothing sent later falls before the horizon', async () => {
    const { topic, ledger, sim } = await setup();
    const first = await sim.runFor({ events: 3000 });
    const horizon = (await ledger.sealedHorizon())!;
    assert.equal(horizon % 60_000, 0);
    assert.ok(
      horizon <= first.clock! && first.clock! - horizon <= 60_000 + 300_000,
      'trails the clock by at most a minute plus the lateness bound',
    );
    const sentBefore = topic.records.length;
    await sim.runFor({ events: 3000 });
    const laterFirstSends = topic.records
      .slice(sentBefore)
      .map((r) => parseMessage(r.value))
      .filter((e) => e !== null);
    const seenBefore = new Set(topic.records.slice(0, sentBefore).map((r) => parseMessage(r.value)?.eventId));
    const fresh = laterFirstSends.filter((e) => !seenBefore.has(e!.eventId));
    assert.ok(fresh.length > 3000);
    assert.ok(fresh.every((e) => e!.at >= horizon));
    assert.ok(
      fresh.some((e) => e!.at < first.clock!),
      'late events released after the first run',
    );
  });

  it('stop() sends what it still held back and seals up to the clock', async () => {
    const { topic, ledger, sim } = await setup();
    await sim.runFor({ events: 2000 });
    assert.ok(sim.stats().held.late > 0);
    await sim.stop();
    const stats = sim.stats();
    assert.deepEqual(stats.held, { late: 0, duplicates: 0 });
    assert.equal(await ledger.sealedHorizon(), Math.floor(stats.clock! / 60_000) * 60_000);
    await assertLedgerMatchesTopic(ledger, topic);
  });
});

describe('ledger: at-least-once publishing', () => {
  it('a rejected publish records nothing; the retry publishes the same batch', async () => {
    const { topic, ledger, sim } = await setup();
    topic.failNext('before-write');
    await assert.rejects(sim.runFor({ events: 500 }), /publish to machining.*broker unavailable/);
    assert.equal(topic.records.length, 0);
    assert.equal(await ledger.sealedHorizon(), null);
    assert.deepEqual(await ledger.readFacts({ fact: FACTS, from: 0, to: 8.64e15, grainMs: 60_000 }), []);
    await sim.runFor({ events: 500 });
    await assertLedgerMatchesTopic(ledger, topic);
    // The message sequence does not depend on batching, so a run that never failed is a prefix.
    const clean = await setup();
    await clean.sim.runFor({ events: 500 });
    assert.deepEqual(
      topic.records.slice(0, clean.topic.records.length).map((r) => r.value),
      clean.topic.records.map((r) => r.value),
    );
  });

  it('a publish whose ack was lost is sent again; the ledger still counts each event once', async () => {
    const { topic, ledger, sim } = await setup();
    await sim.runFor({ events: 1000 });
    const before = await ledger.readFacts({ fact: FACTS, from: 0, to: 8.64e15, grainMs: 60_000 });
    const written = topic.records.length;
    topic.failNext('after-write');
    await assert.rejects(sim.runFor({ events: 1000 }), /request timed out/);
    assert.ok(topic.records.length > written, 'the failed batch did reach the topic');
    assert.deepEqual(await ledger.readFacts({ fact: FACTS, from: 0, to: 8.64e15, grainMs: 60_000 }), before);
    const failed = topic.records.slice(written).map((r) => r.value);
    await sim.runFor({ events: 1000 });
    assert.deepEqual(
      topic.records.slice(written + failed.length, written + 2 * failed.length).map((r) => r.value),
      failed,
    );
    await assertLedgerMatchesTopic(ledger, topic);
  });

  it('a failed ledger write is retried without publishing again', async () => {
    const { topic, ledger } = await setup();
    let failures = 1;
    const flaky = {
      record: (e: Parameters<Ledger['record']>[0]) =>
        failures-- > 0 ? Promise.reject(new Error('connection reset')) : ledger.record(e),
    };
    const sim = createMachiningSimulator({
      topic,
      ledger: flaky,
      seed: 7,
      startTime: START,
      warmupMs: 20 * 60_000,
      maxBatch: 300,
    });
    await assert.rejects(sim.runFor({ events: 300 }), /ledger write.*connection reset/);
    const firstBatch = topic.records.length;
    const stats = await sim.runFor({ events: 300 });
    assert.ok(topic.records.length > firstBatch);
    assert.equal(
      stats.messages,
      topic.records.length,
      'every message sent once: the acked batch was not published again',
    );
    await assertLedgerMatchesTopic(ledger, topic);
  });
});

describe('ledger: the pipelined back-fill (publish k-1 and record k-2 while generating k)', () => {
  it('records in order, each batch only after its ack; a ledger failure and a publish failure in flight lose and double nothing', async () => {
    const { topic, ledger } = await setup();
    const seals: number[] = [];
    let calls = 0;
    const flaky = {
      async record(e: Parameters<Ledger['record']>[0]) {
        calls++;
        if (calls === 4) {
          // While this record fails, the next batch's publish is in flight: make that fail too.
          topic.failNext('after-write');
          throw new Error('connection reset');
        }
        // Every event this entry counts is already in the topic (recorded after its ack).
        const inTopic = new Set(topic.records.map((r) => parseMessage(r.value)?.eventId));
        assert.ok(e.facts.length === 0 || e.events <= inTopic.size);
        seals.push(e.sealedBefore);
        await ledger.record(e);
      },
    };
    const sim = createMachiningSimulator({
      topic,
      ledger: flaky,
      seed: 7,
      startTime: START,
      warmupMs: 20 * 60_000,
      maxBatch: 300,
    });
    await assert.rejects(sim.runFor({ events: 6000 }), /connection reset|request timed out/);
    const stats = await sim.runFor({ events: 6000 });
    assert.ok(seals.length > 10, `${seals.length} records`);
    assert.ok(
      seals.every((x, i) => i === 0 || x >= seals[i - 1]),
      'seals recorded in order',
    );
    assert.ok(stats.events >= 6000);
    // Lost ack → the batch went out twice; the ledger still counts every unique acked event once.
    await assertLedgerMatchesTopic(ledger, topic);
    // And the message stream is an unfailed run's (a prefix of it: the failed run generated less), apart from the re-sent batch.
    const clean = await setup();
    await clean.sim.runFor({ events: 12_000 });
    const unique = (rs: RecordingTopic['records']) => [...new Set(rs.map((r) => r.value))];
    const got = unique(topic.records);
    assert.ok(topic.records.length > stats.messages, 'the batch whose ack was lost went out twice');
    assert.deepEqual(got, unique(clean.topic.records).slice(0, got.length));
  });
});

describe('live mode', () => {
  it('publishes what is due by the clock in small batches, survives a failed publish, and stops cleanly', async () => {
    const realStart = Date.now();
    // Simulated time = the injected clock; here it runs 60× faster than the wall so the test is short.
    const now = () => START + (Date.now() - realStart) * 60;
    const errors: unknown[] = [];
    const { topic, ledger, sim } = await setup({ now, intervalMs: 20, onError: (e) => errors.push(e) });
    sim.start();
    await new Promise((r) => setTimeout(r, 150));
    topic.failNext('before-write');
    await new Promise((r) => setTimeout(r, 700));
    await sim.stop();
    assert.equal(errors.length, 1);
    assert.ok(topic.publishCalls > 10, `${topic.publishCalls} publishes`);
    const last = parseMessage(topic.records.filter((r) => parseMessage(r.value)).at(-1)!.value)!;
    assert.ok(last.at <= now());
    await assertLedgerMatchesTopic(ledger, topic);
  });
});
