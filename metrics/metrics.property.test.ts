import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allMetrics } from './index.ts';
import { compileFoldAllSql, compileFoldSql, foldParams } from './compile-sql.ts';
import { compileReducer, SEP } from './compile-reducer.ts';
import { combineCells, defineMetric } from './define-metric.ts';
import { migrate } from '../store/migrate.ts';
import { GRAIN_MS, type Grain } from '../serving/types.ts';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';

// The property the architecture rests on: for any events, the batch SQL (run on the real Postgres)
// and the speed reducer give identical states, at every grain, however the events are split.
const STATIONS = ['DIE', 'BND', 'TST', ''];
// Shapes the production metrics do not use yet: signed change events and equality filters.
const testMetrics = [
  defineMetric({
    name: 't_signed_count',
    domain: 'quality',
    description: 't',
    eventTypes: ['machining.exit'],
    dimensions: { station: 'station' },
    signField: 'sign',
    aggregate: { kind: 'count' },
  }),
  defineMetric({
    name: 't_signed_hist',
    domain: 'quality',
    description: 't',
    eventTypes: ['machining.exit'],
    dimensions: { station: 'station' },
    signField: 'sign',
    aggregate: { kind: 'histogram', field: 'cycleTimeMs', bounds: [1000, 100_000] },
  }),
  defineMetric({
    name: 't_where_sum',
    domain: 'quality',
    description: 't',
    eventTypes: ['machining.exit', 'machining.enter'],
    dimensions: {},
    where: { errorCode: 'E12' },
    aggregate: { kind: 'sum', field: 'cycleTimeMs' },
  }),
  defineMetric({
    name: 't_min',
    domain: 'quality',
    description: 't',
    eventTypes: ['machining.exit'],
    dimensions: { station: 'station' },
    aggregate: { kind: 'min', field: 'cycleTimeMs' },
  }),
  defineMetric({
    name: 't_max',
    domain: 'quality',
    description: 't',
    eventTypes: ['machining.exit'],
    dimensions: { errorCode: 'errorCode' },
    aggregate: { kind: 'max', field: 'cycleTimeMs' },
  }),
];
const metrics = [...allMetrics, ...testMetrics];
const event = fc.record({
  type: fc.constantFrom('machining.enter', 'machining.exit', 'clockin.row', 'other'),
  eventTime: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_000 + 3 * 86_400_000 }),
  station: fc.constantFrom(...STATIONS),
  errorCode: fc.option(fc.constantFrom('E12', 'E31'), { nil: null }),
  cycleTimeMs: fc.option(fc.integer({ min: 0, max: 500_000 }), { nil: null }),
  sign: fc.constantFrom(1, 1, -1),
  operator: fc.constantFrom('E0001', 'E0002', ''),
  clockin: fc.record({
    department: fc.constantFrom('Assembly', 'Machining'),
    shift: fc.constantFrom('A', 'C'),
    present: fc.constantFrom('yes', 'no'),
    absenceReason: fc.option(fc.constantFrom('Sick', 'Vacation'), { nil: null }),
    minutesWorked: fc.option(fc.integer({ min: 0, max: 960 }), { nil: null }),
  }),
});

describe('metric definitions compile to batch SQL and speed reducer that agree', () => {
  const pool = testPool();
  const schema = testSchemaName('prop');
  before(() => migrate(pool, schema, 1));
  after(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('gives identical states for random events, split at a random offset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 0, maxLength: 60 }), fc.nat(), async (events, cut) => {
        await pool.query(`TRUNCATE ${schema}.raw_events, ${schema}.rollups`);
        const rows = events.map((e, i) => ({
          id: `e${i}`,
          type: e.type,
          eventTime: e.eventTime,
          payload:
            e.type === 'clockin.row'
              ? { employeeId: e.operator, sign: e.sign, ...e.clockin }
              : {
                  station: e.station,
                  operator: e.operator,
                  errorCode: e.errorCode,
                  cycleTimeMs: e.cycleTimeMs,
                  sign: e.sign,
                },
        }));
        await pool.query(
          `INSERT INTO ${schema}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
           SELECT unnest($1::text[]), 's', unnest($2::text[]), 'k', unnest($3::bigint[]), unnest($4::jsonb[]), 0, generate_subscripts($1::text[], 1) - 1`,
          [
            rows.map((r) => r.id),
            rows.map((r) => r.type),
            rows.map((r) => r.eventTime),
            rows.map((r) => JSON.stringify(r.payload)),
          ],
        );
        // Fold in two ranges, like two refresh cycles, to exercise the monoid upsert.
        const split = events.length === 0 ? 0 : cut % (events.length + 1);
        const grains = (Object.keys(GRAIN_MS) as Grain[]).map((g) => ({ name: g, ms: GRAIN_MS[g] }));
        for (const m of metrics) {
          const sql = compileFoldSql(m, schema, grains);
          for (const [a, b] of [
            [0, split],
            [split, events.length],
          ])
            await pool.query(sql, foldParams(m, 0, a, b));
        }
        const read = async () => {
          const stored = await pool.query(`SELECT metric, grain, bucket, dims, cells FROM ${schema}.rollups`);
          return new Map(
            stored.rows.map((r) => [
              `${r.metric}|${r.grain}|${[r.bucket, ...r.dims].join(SEP)}`,
              (r.cells as string[]).map(Number),
            ]),
          );
        };
        const fromSql = await read();
        // The refresher's form: every metric in one statement, same ranges, same rollups.
        await pool.query(`TRUNCATE ${schema}.rollups`);
        const all = compileFoldAllSql(metrics, schema, grains);
        for (const [a, b] of [
          [0, split],
          [split, events.length],
        ])
          await pool.query(all.sql, all.params(0, a, b));
        assert.deepEqual(new Map([...(await read())].sort()), new Map([...fromSql].sort()));
        const fromReducer = new Map<string, number[]>();
        for (const m of metrics) {
          for (const g of Object.keys(GRAIN_MS) as Grain[]) {
            // The speed side folds minutes and the serving side re-buckets: do the same here.
            const minutes = new Map<string, number[]>();
            const reduce = compileReducer(m, GRAIN_MS.minute);
            for (const r of rows) reduce(r, minutes);
            for (const [key, cells] of minutes) {
              const [minute, ...dims] = key.split(SEP);
              const k = `${m.name}|${g}|${[Math.floor(Number(minute) / GRAIN_MS[g]) * GRAIN_MS[g], ...dims].join(SEP)}`;
              const prev = fromReducer.get(k);
              fromReducer.set(k, prev ? combineCells(m.cellOps, prev, cells) : [...cells]);
            }
          }
        }
        assert.deepEqual(new Map([...fromSql].sort()), new Map([...fromReducer].sort()));
      }),
      { numRuns: 40, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
    );
  });
});
