import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { createLedger, readFacts } from '../simulator/ledger.ts';
import { CYCLE_TIME_BOUNDS_MS } from '../simulator/ledger-facts.ts';
import { createMachiningSimulator } from '../simulator/machining.ts';
import { createRecordingTopic } from '../simulator/testing/recording-topic.ts';
import { compareSeries, LEDGER_FACTS } from './compare.ts';
import { GRAIN_MS, type ApiPoint, type Grain, type ProductionMetric, type SeriesQuery } from './graphql.ts';
import { runVerify } from './verify.ts';
import { SOURCE_CHECKS } from './source-checks-table.ts';

const pool = testPool();
const schema = testSchemaName('ledger_verify');
// Crosses midnight UTC so a whole DAY bucket gets sealed.
const START = Date.UTC(2026, 10, 22, 23, 40);
let server: Server;
let url: string;
const queries: SeriesQuery[] = [];
let corrupted = 0;

/**
 * A canned GraphQL endpoint: answers `productionSeries` from the ledger itself, as a correct
 * pipeline would, except that the first PARTS_EXITED point of every answer is off by one.
 */
async function answer(q: SeriesQuery): Promise<ApiPoint[]> {
  const grainMs = GRAIN_MS[q.grain];
  const facts = await readFacts(pool, {
    schema,
    fact: LEDGER_FACTS[q.metric],
    from: Date.parse(q.from),
    to: Date.parse(q.to),
    grainMs,
  });
  const points = new Map<string, ApiPoint>();
  for (const f of facts) {
    const k = `${f.bucket}|${f.station}|${f.errorCode}`;
    const p = points.get(k) ?? {
      bucket: new Date(f.bucket).toISOString(),
      station: { id: f.station },
      errorCode: f.errorCode,
      value: 0,
      histogram: null,
    };
    points.set(k, p);
    if (q.metric !== 'CYCLE_TIME') p.value += f.value;
    else {
      p.histogram ??= {
        bounds: [...CYCLE_TIME_BOUNDS_MS],
        counts: new Array(CYCLE_TIME_BOUNDS_MS.length + 1).fill(0),
        count: 0,
        sum: 0,
      };
      if (f.fact === 'cycle_time_count') p.histogram.count = p.value = f.value;
      else if (f.fact === 'cycle_time_sum') p.histogram.sum = f.value;
      else p.histogram.counts[Number(f.fact.slice('cycle_time_bucket_'.length))] = f.value;
    }
  }
  const list = [...points.values()];
  if (q.metric === 'PARTS_EXITED' && list.length > 0) {
    list[0].value += 1;
    corrupted++;
  }
  return list;
}

before(async () => {
  const ledger = createLedger({ pool, schema });
  const sim = createMachiningSimulator({
    topic: createRecordingTopic(),
    ledger,
    seed: 11,
    startTime: START,
    ratePerSec: 5,
    warmupMs: 30 * 60_000,
  });
  await sim.runFor({ untilTime: START + 90 * 60_000 });
  await sim.stop();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const q = JSON.parse(body).variables as SeriesQuery;
      queries.push(q);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { productionSeries: { points: await answer(q) } } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

after(async () => {
  server?.close();
  await dropSchema(pool, schema);
  await pool.end();
});

describe('verify against a canned endpoint', () => {
  it('checks every metric and grain inside the sealed span and reports exactly the wrong values', async () => {
    const horizon = Date.UTC(2026, 10, 23, 1, 10);
    let waited = false;
    // The canned endpoint speaks productionSeries only: machining's metricSeries check (operator task
    // time) is covered by energy-workforce-reports.test.ts over the real subgraphs.
    const result = await runVerify({
      graphqlUrl: url,
      pool,
      ledgerSchema: schema,
      ranges: 5,
      seed: 3,
      reportZones: false,
      waitForCatchUp: async () => void (waited = true),
      sourceChecks: SOURCE_CHECKS.filter((c) => c.source !== 'machining'),
    });
    assert.ok(waited);
    assert.equal(queries.length, 3 * 5 * 4);
    for (const q of queries) {
      const g = GRAIN_MS[q.grain];
      assert.ok(
        Date.parse(q.from) % g === 0 && Date.parse(q.to) % g === 0 && Date.parse(q.to) > Date.parse(q.from),
        `aligned ${JSON.stringify(q)}`,
      );
      assert.ok(Date.parse(q.to) <= horizon, `sealed ${JSON.stringify(q)}`);
    }
    assert.deepEqual(new Set(queries.map((q) => q.grain)), new Set<Grain>(['MINUTE', 'HOUR', 'DAY']));
    assert.ok(result.checked > 1000, `${result.checked} checked`);
    assert.equal(result.mismatches, corrupted);
    assert.ok(corrupted > 0);
    assert.deepEqual(result.bySource, { machining: { checked: result.checked, mismatches: corrupted } });
    for (const d of result.details) {
      assert.ok('metric' in d);
      assert.equal(d.metric, 'PARTS_EXITED');
      assert.equal(d.actual, (d.expected as number) + 1);
    }
  });

  it('refuses to report success when the ledger has nothing sealed', async () => {
    const empty = testSchemaName('ledger_empty');
    await createLedger({ pool, schema: empty }).ensure();
    try {
      await assert.rejects(runVerify({ graphqlUrl: url, pool, ledgerSchema: empty }), /no sealed minute/);
    } finally {
      await dropSchema(pool, empty);
    }
  });
});

describe('compareSeries', () => {
  const T = Date.UTC(2026, 10, 22, 6, 0);
  const args = (
    metric: ProductionMetric,
    expected: Parameters<typeof compareSeries>[0]['expected'],
    actual: ApiPoint[],
  ) => compareSeries({ metric, grain: 'MINUTE', from: T, to: T + 60_000, expected, actual });
  const point = (over: Partial<ApiPoint>): ApiPoint => ({
    bucket: new Date(T).toISOString(),
    station: { id: 'BND' },
    errorCode: null,
    value: 0,
    histogram: null,
    ...over,
  });

  it('compares a point missing on either side with 0 and flags duplicate points', () => {
    const r = args(
      'STATION_ERRORS',
      [{ fact: 'station_errors', bucket: T, station: 'BND', errorCode: 'E12', value: 2 }],
      [
        point({ errorCode: 'E31', value: 1 }),
        point({ errorCode: 'E47', value: 0 }),
        point({ errorCode: 'E47', value: 0 }),
      ],
    );
    assert.equal(r.checked, 3);
    assert.deepEqual(
      r.mismatches.map((m) => [m.key, m.expected, m.actual]),
      [
        ['2026-11-22T06:00:00.000Z BND E47 points', 1, 2],
        ['2026-11-22T06:00:00.000Z BND E12', 2, 0],
        ['2026-11-22T06:00:00.000Z BND E31', 0, 1],
      ],
    );
  });

  it('checks a histogram field by field and its bounds', () => {
    const counts = [0, 0, 0, 0, 1, 0, 0, 0, 0];
    const expected = [
      { fact: 'cycle_time_count', bucket: T, station: 'BND', errorCode: null, value: 1 },
      { fact: 'cycle_time_sum', bucket: T, station: 'BND', errorCode: null, value: 61_000 },
      { fact: 'cycle_time_bucket_4', bucket: T, station: 'BND', errorCode: null, value: 1 },
    ];
    const good = args('CYCLE_TIME', expected, [
      point({ value: 1, histogram: { bounds: [...CYCLE_TIME_BOUNDS_MS], counts, count: 1, sum: 61_000 } }),
    ]);
    assert.deepEqual(good, { checked: 1 + 3 + 9, mismatches: [] });
    const bad = args('CYCLE_TIME', expected, [
      point({
        value: 1,
        histogram: { bounds: [15_000, 30_000], counts: [0, 1, 0, 0, 0, 0, 0, 0, 0], count: 1, sum: 61_000 },
      }),
    ]);
    assert.deepEqual(
      bad.mismatches.map((m) => m.key.split(' ').slice(2).join(' ')),
      ['bounds', 'counts[1]', 'counts[4]'],
    );
  });
});
