import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import type { Topic } from '../../log/topic.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger-schema.ts';
import { sourceSeal } from '../ledger-sources.ts';
import { createRecordingTopic, type RecordingTopic } from '../testing/recording-topic.ts';
import { heatWire } from './heat-faults.ts';
import { createHeatModel } from './heat-model.ts';
import { createHeatWriter, HEAT_SOURCE, type HeatWriterOptions } from './heat-sensors.ts';

// Destination: the RecordingTopic test double; ledger: real Postgres, one schema per writer.
const pool = testPool();
const schemas: string[] = [];
const floor = loadFloorMap();
const START = Date.UTC(2026, 10, 22, 5, 57, 30);
const H = 3_600_000;

async function setup(overrides: Partial<HeatWriterOptions> = {}) {
  const schema = testSchemaName('ledger_heat');
  schemas.push(schema);
  await ensureLedger(pool, schema);
  const topic = createRecordingTopic('mycpu.heat', 1);
  const opened: Array<[string, number]> = [];
  const openTopic = (name: string, partitions: number): Topic => (opened.push([name, partitions]), topic);
  const writer = createHeatWriter({
    seed: 7,
    startTime: START,
    dataDir: '/nonexistent',
    floor,
    pool,
    ledgerSchema: schema,
    openTopic,
    faultRate: 1,
    log: () => undefined,
    ...overrides,
  });
  return { schema, topic, writer, opened };
}

async function ledgerFacts(schema: string): Promise<Map<string, number>> {
  const { rows } = await pool.query(`SELECT fact, minute, station, value FROM ${schema}.facts ORDER BY 1, 2, 3`);
  return new Map(rows.map((r) => [`${r.fact}|${r.minute}|${r.station}`, Number(r.value)]));
}

interface Parsed {
  readingId: string;
  sensorId: string;
  zone: string;
  at: number;
  centiC: number;
}
/** Independent reading of the wire contract (not the writer's code): null when malformed. */
function parse(value: string): Parsed | null {
  try {
    const v = JSON.parse(value);
    if (
      typeof v.readingId !== 'string' ||
      typeof v.sensorId !== 'string' ||
      typeof v.zone !== 'string' ||
      !Number.isInteger(v.centiC)
    )
      return null;
    if (typeof v.at !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v.at)) return null;
    return { ...v, at: Date.parse(v.at) };
  } catch {
    return null;
  }
}

/** The truth recomputed from what reached the topic: each readingId once, malformed skipped. */
function recompute(topic: RecordingTopic): Map<string, number> {
  const seen = new Set<string>();
  const out = new Map<string, number>();
  const add = (k: string, v: number) => out.set(k, (out.get(k) ?? 0) + v);
  for (const r of topic.records) {
    const p = parse(r.value);
    if (!p || seen.has(p.readingId)) continue;
    seen.add(p.readingId);
    const minute = Math.floor(p.at / 60_000) * 60_000;
    add(`zone_temp_count|${minute}|${p.zone}`, 1);
    add(`zone_temp_sum|${minute}|${p.zone}`, p.centiC);
  }
  return out;
}

after(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

describe('heat writer: determinism', () => {
  it('same seed and start → the same messages and ledger, however it is stepped and batched', async () => {
    const a = await setup();
    const b = await setup({ maxBatch: 97 });
    await a.writer.advanceTo(START + 2 * H);
    for (let t = START; t <= START + 2 * H; t += 7 * 60_000 + 13) await b.writer.advanceTo(t);
    await b.writer.advanceTo(START + 2 * H);
    assert.ok(a.topic.records.length > 2 * 360 * 13);
    assert.deepEqual(
      b.topic.records.map((r) => [r.key, r.value]),
      a.topic.records.map((r) => [r.key, r.value]),
    );
    assert.deepEqual(await ledgerFacts(b.schema), await ledgerFacts(a.schema));
    assert.equal(await sourceSeal(pool, b.schema, HEAT_SOURCE), await sourceSeal(pool, a.schema, HEAT_SOURCE));
    assert.deepEqual(a.opened, [['mycpu.heat', 1]]);
  });

  it('another seed or start → other readings and other ids', async () => {
    const a = await setup();
    const b = await setup({ seed: 8 });
    const c = await setup({ startTime: START + 1 });
    for (const s of [a, b, c]) await s.writer.advanceTo(START + 10 * 60_000);
    const ids = (s: typeof a) => new Set(s.topic.records.map((r) => parse(r.value)?.readingId));
    assert.notDeepEqual(
      b.topic.records.map((r) => r.value),
      a.topic.records.map((r) => r.value),
    );
    assert.equal([...ids(a)].filter((id) => id && ids(c).has(id)).length, 0);
  });
});

describe('heat writer: sensors and readings (no faults)', () => {
  let records: Parsed[] = [];
  before(async () => {
    const s = await setup({ faultRate: 0 });
    await s.writer.advanceTo(START + 24 * H);
    records = s.topic.records.map((r) => {
      assert.equal(r.key, parse(r.value)!.sensorId);
      assert.deepEqual(Object.keys(JSON.parse(r.value)), ['readingId', 'sensorId', 'zone', 'at', 'centiC']);
      return parse(r.value)!;
    });
  });

  it('has 2–3 sensors per zone, each reading every 10 s', () => {
    const byZone = new Map<string, Set<string>>();
    for (const r of records) byZone.set(r.zone, (byZone.get(r.zone) ?? new Set()).add(r.sensorId));
    assert.deepEqual([...byZone.keys()].sort(), [...new Set(floor.stations.map((s) => s.zone))].sort());
    for (const [zone, sensors] of byZone) {
      assert.ok(sensors.size >= 2 && sensors.size <= 3, `${zone}: ${sensors.size} sensors`);
      for (const id of sensors) {
        assert.match(id, new RegExp(`^H-${zone}-[123]$`));
        const times = records.filter((r) => r.sensorId === id).map((r) => r.at);
        assert.equal(times.length, 24 * 360);
        assert.ok(times.every((t, i) => i === 0 || t - times[i - 1] === 10_000));
      }
    }
  });

  it('reads zone-typical temperatures: thermal hot, burn-in hotter, a daily drift', () => {
    const mean = (xs: Parsed[]) => xs.reduce((n, r) => n + r.centiC, 0) / xs.length;
    const zone = (z: string) => records.filter((r) => r.zone === z);
    for (const z of ['Z1', 'Z2', 'Z4', 'Z5', 'Z6'])
      assert.ok(mean(zone('Z3')) > mean(zone(z)) + 500, `Z3 hotter than ${z}`);
    const bySensor = (id: string) => mean(records.filter((r) => r.sensorId === id));
    assert.ok(bySensor('H-Z3-2') > bySensor('H-Z3-1') + 500, 'the burn-in sensor is hotter than the curing-oven one');
    const hour = (r: Parsed) => new Date(r.at).getUTCHours();
    const dock = zone('Z1');
    assert.ok(
      mean(dock.filter((r) => hour(r) === 15)) > mean(dock.filter((r) => hour(r) === 3)) + 300,
      'afternoon warmer than night',
    );
    assert.ok(records.every((r) => Number.isInteger(r.centiC) && r.centiC > 1_000 && r.centiC < 6_000));
  });
});

describe('heat writer: faults at default rates, and the ledger', () => {
  it('sends immediate and delayed duplicates, bounded late readings and both malformed flavours; ledger = recomputation', async () => {
    const { schema, topic, writer } = await setup();
    await writer.advanceTo(START + 6 * H);
    const first = new Map<string, number>();
    let immediate = 0,
      delayed = 0,
      late = 0,
      maxLate = 0,
      maxAt = -Infinity,
      notJson = 0,
      badCenti = 0;
    topic.records.forEach((r, i) => {
      const p = parse(r.value);
      if (!p) {
        if (r.value.includes('"centiC":"hot"')) badCenti++;
        else (assert.throws(() => JSON.parse(r.value)), notJson++);
        return;
      }
      const f = first.get(p.readingId);
      if (f !== undefined) {
        assert.equal(r.value, topic.records[f].value, 'a duplicate is the identical message');
        if (i - f === 1) immediate++;
        else delayed++;
        return;
      }
      first.set(p.readingId, i);
      if (p.at < maxAt) (late++, (maxLate = Math.max(maxLate, maxAt - p.at)));
      maxAt = Math.max(maxAt, p.at);
    });
    assert.ok(immediate > 0 && delayed > 0, `duplicates ${immediate}/${delayed}`);
    assert.ok(late > 0 && maxLate <= 120_000, `late ${late}, max ${maxLate} ms`);
    assert.ok(notJson > 0 && badCenti > 0, `malformed ${notJson}/${badCenti}`);
    const { rows } = await pool.query(
      `SELECT split_part(detail, ': ', 2) AS d, kind, count(*)::int AS n FROM ${schema}.faults GROUP BY 1, 2`,
    );
    const count = (kind: string, pred: (d: string) => boolean) =>
      rows.filter((r) => r.kind === kind && pred(r.d)).reduce((n, r) => n + r.n, 0);
    assert.equal(
      count('duplicate', (d) => d === 'immediate'),
      immediate,
    );
    assert.equal(
      count('duplicate', (d) => d.startsWith('after')),
      delayed,
    );
    assert.equal(
      count('malformed', (d) => d === 'not_json'),
      notJson,
    );
    assert.equal(
      count('malformed', (d) => d === 'bad_centi'),
      badCenti,
    );
    // Every late-sent reading is a recorded late fault (the count above sees only those overtaken by a newer one).
    assert.ok(count('late', () => true) >= late);
    assert.deepEqual(await ledgerFacts(schema), recompute(topic));
  });

  it('seals before any held-back reading, and up to the clock after close', async () => {
    const { schema, topic, writer } = await setup();
    await writer.advanceTo(START + 3 * H);
    const seal = (await sourceSeal(pool, schema, HEAT_SOURCE))!;
    assert.ok(seal > START && seal <= START + 3 * H && seal % 60_000 === 0);
    // Nothing sent later may land before the seal: the seal must not move past a held-back reading.
    const before = topic.records.length;
    await writer.close();
    const earlier = new Set(topic.records.slice(0, before).map((r) => parse(r.value)?.readingId));
    const flushed = topic.records
      .slice(before)
      .map((r) => parse(r.value))
      .filter((p) => p && !earlier.has(p.readingId));
    assert.ok(flushed.length > 0 || writer.stats().faults.late === undefined);
    for (const p of flushed) assert.ok(p!.at >= seal, 'held reading below the seal');
    assert.equal(await sourceSeal(pool, schema, HEAT_SOURCE), Math.floor(writer.stats().clock! / 60_000) * 60_000);
    assert.deepEqual(await ledgerFacts(schema), recompute(topic));
  });

  it('a failed publish is retried without double counting (lost ack → duplicates the loader drops)', async () => {
    const { schema, topic, writer } = await setup({ maxBatch: 500 });
    await writer.advanceTo(START + 30 * 60_000);
    topic.failNext('before-write');
    await assert.rejects(writer.advanceTo(START + H), /broker unavailable/);
    topic.failNext('after-write');
    await assert.rejects(writer.advanceTo(START + H), /timed out/);
    await writer.advanceTo(START + H);
    const ids = topic.records.map((r) => parse(r.value)?.readingId).filter(Boolean);
    assert.ok(new Set(ids).size < ids.length);
    assert.deepEqual(await ledgerFacts(schema), recompute(topic));
    assert.equal(writer.stats().written, new Set(ids).size);
  });
});

describe('heat wire format', () => {
  it('heatWire writes exactly what JSON.stringify of the reading object writes', () => {
    const model = createHeatModel({ floor, seed: 3, startTime: START, idPrefix: 'h3.x"q\\ü' });
    for (let i = 0; i < 20_000; i++) {
      const r = model.next();
      const at = i % 97 === 0 ? r.at - 61_234 : r.at; // late ones jump back across minutes
      const reading = { ...r, at, centiC: i % 5 === 0 ? -r.centiC : r.centiC };
      assert.equal(
        heatWire(reading).value,
        JSON.stringify({
          readingId: reading.readingId,
          sensorId: reading.sensorId,
          zone: reading.zone,
          at: new Date(at).toISOString(),
          centiC: reading.centiC,
        }),
      );
      assert.equal(heatWire(reading).key, reading.sensorId);
    }
  });
});
