import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { compileReducer } from '../../metrics/compile-reducer.ts';
import { heatMetrics } from '../../metrics/heat.ts';
import { loadFloorMap } from '../../simulator/floor.ts';
import { ensureLedger } from '../../simulator/ledger-schema.ts';
import { createHeatWriter } from '../../simulator/sources/heat-sensors.ts';
import { createRecordingTopic } from '../../simulator/testing/recording-topic.ts';
import { envelopeSchema, type Envelope } from '../envelope.ts';
import { heatEnvelope } from './heat.ts';

const pool = testPool();
const schema = testSchemaName('ledger_heat_schema');
after(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

const good =
  '{"readingId":"h1.abc-H-Z3-2-1x","sensorId":"H-Z3-2","zone":"Z3","at":"2026-11-22T06:00:00.000Z","centiC":4123}';

describe('heat message schema', () => {
  it('maps a reading to a heat.reading envelope with the reading id', () => {
    const env = heatEnvelope(good, 'kafka:mycpu.heat') as Envelope;
    assert.deepEqual(env, {
      id: 'heat:h1.abc-H-Z3-2-1x',
      source: 'kafka:mycpu.heat',
      type: 'heat.reading',
      key: 'H-Z3-2',
      eventTime: Date.UTC(2026, 10, 22, 6),
      payload: { sensorId: 'H-Z3-2', zone: 'Z3', centiC: 4123 },
    });
    assert.ok(envelopeSchema.safeParse(env).success);
  });

  it('rejects what the factory sends broken, with a reason', () => {
    assert.equal(heatEnvelope(good.slice(0, 40), 's'), 'not JSON');
    assert.match(heatEnvelope(good.replace('4123', '"hot"'), 's') as string, /^centiC: /);
    assert.match(heatEnvelope(good.replace('4123', '41.5'), 's') as string, /^centiC: /);
    assert.match(heatEnvelope(good.replace('"2026-11-22T06:00:00.000Z"', '"yesterday"'), 's') as string, /^at: /);
    assert.match(heatEnvelope(good.replace(',"zone":"Z3"', ''), 's') as string, /^zone: /);
  });

  it("the writer's real output: valid messages map, malformed ones do not, and the metrics equal the ledger", async () => {
    await ensureLedger(pool, schema);
    const topic = createRecordingTopic('mycpu.heat', 1);
    const start = Date.UTC(2026, 10, 22, 5, 0, 0);
    const writer = createHeatWriter({
      seed: 3,
      startTime: start,
      dataDir: '/nonexistent',
      floor: loadFloorMap(),
      pool,
      ledgerSchema: schema,
      openTopic: () => topic,
      faultRate: 1,
      log: () => undefined,
    });
    await writer.advanceTo(start + 4 * 3_600_000);
    await writer.close();
    // What the loader would accept: envelopes, deduplicated by id.
    const accepted = new Map<string, Envelope>();
    let rejected = 0;
    for (const r of topic.records) {
      const env = heatEnvelope(r.value, 'kafka:mycpu.heat');
      if (typeof env === 'string') rejected++;
      else accepted.set(env.id, env);
    }
    assert.equal(rejected, writer.stats().faults.malformed);
    // The metric definitions (speed side) over the accepted events, against the ledger's facts.
    const served = new Map<string, number>();
    for (const m of heatMetrics.filter((x) => x.name !== 'zone_temp_max')) {
      const reduce = compileReducer(m, 60_000);
      const s = new Map<string, number[]>();
      for (const e of accepted.values()) reduce(e, s);
      for (const [k, cells] of s) {
        const [minute, zone] = k.split('\u001f');
        served.set(`${m.name}|${minute}|${zone}`, cells[0]);
      }
    }
    const { rows } = await pool.query(`SELECT fact, minute, station, value FROM ${schema}.facts`);
    assert.deepEqual(new Map(rows.map((r) => [`${r.fact}|${r.minute}|${r.station}`, Number(r.value)])), served);
    const max = compileReducer(heatMetrics[2], 3_600_000);
    const hourly = new Map<string, number[]>();
    for (const e of accepted.values()) max(e, hourly);
    const z3 = [...hourly].filter(([k]) => k.endsWith('\u001fZ3')).map(([, c]) => c[0]);
    assert.ok(z3.length >= 4 && z3.every((v) => v > 3_800), `burn-in heat shows in the Z3 max: ${z3}`);
  });
});
