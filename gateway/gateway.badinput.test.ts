import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AUTH, startFixtureStack, type FixtureStack } from './testing/start-fixture-stack.ts';
import type { FixtureRow } from '../serving/testing/fixture-serving.ts';

// Fuzzed queries, variables and request bodies through the real gateway over the real subgraph
// servers (fixture serving). Whatever a client sends: no crash, no 5xx, no stack trace, and every
// error carries an extensions.code. Bounded runs, seeded (FUZZ_SEED replays a failure).
const T0 = Date.UTC(2026, 10, 22, 7);
const ROWS: FixtureRow[] = [
  { metric: 'parts_exited', bucket: T0, dims: { station: 'CUT' }, cells: [5] },
  { metric: 'station_errors', bucket: T0, dims: { station: 'CUT', errorCode: 'E1' }, cells: [1] },
  { metric: 'cycle_time', bucket: T0, dims: { station: 'CUT' }, cells: [10, 400_000, 2, 3, 3, 1, 0, 0, 0, 0, 1] },
];
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const VALID = `{ productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") { total points { bucket station { id name } value } } }`;
// A stack in any form. (Yoga's request-parsing errors carry `extensions.originalError` with the JSON
// SyntaxError's name and message — no stack; noted for the gateway's error masking, issue 11.)
const STACK = /stacktrace|"stack"|\n\s+at |\bat .*\.(ts|js|mjs):\d+|node_modules/;

let stack: FixtureStack;
const failures: string[] = [];

/** Send anything; check the answer is a client error or data, never a crash, a 5xx or a stack. */
async function check(init: RequestInit & { path?: string }): Promise<void> {
  const res = await fetch(`${stack.gateway.url}${init.path ?? ''}`, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  const what = `${init.method ?? 'GET'} ${String(init.body ?? init.path ?? '').slice(0, 300)} → ${res.status} ${text.slice(0, 400)}`;
  assert.ok(res.status < 500, `5xx for a client mistake: ${what}`);
  assert.doesNotMatch(text, STACK, `a stack trace reached the client: ${what}`);
  if (!(res.headers.get('content-type') ?? '').includes('json')) return;
  const body = JSON.parse(text) as
    { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } | Array<unknown>;
  for (const r of Array.isArray(body) ? body : [body]) {
    for (const e of (r as { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> }).errors ?? []) {
      assert.equal(typeof e.message, 'string', `an error without a message: ${what}`);
      assert.equal(typeof e.extensions?.code, 'string', `an error without extensions.code: ${what}`);
    }
  }
}

// With a valid token (every scope): the fuzzing is about what a legitimate client sends wrong.
const post = (body: unknown, contentType = 'application/json') =>
  check({
    method: 'POST',
    headers: { 'content-type': contentType, ...AUTH },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

// A value of any GraphQL literal shape, right or wrong for the argument it lands in.
const literal: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string().map((s) => JSON.stringify(s)),
    fc.integer().map(String),
    fc.constantFrom(
      '1e308',
      '-0',
      '99999999999999999999999',
      'NaN',
      'null',
      'true',
      '""',
      '"2026-13-45T99:00:00Z"',
      '"2026-11-22T07:00:00Z"',
      '"yesterday"',
      'HOUR',
      'DAY',
      'MINUTE',
      'YEAR',
      'PARTS_EXITED',
      'CYCLE_TIME',
      'NOPE',
      '$undeclared',
    ),
    fc.array(tie('v'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
    fc
      .array(fc.tuple(fc.constantFrom('name', 'value', 'x'), tie('v')), { maxLength: 2 })
      .map((kv) => `{ ${kv.map(([k, v]) => `${k}: ${v}`).join(', ')} }`),
  ),
})).v;

const FIELDS = [
  'productionSeries',
  'metricSeries',
  'stations',
  'station',
  'metrics',
  'deadLetters',
  'entities',
  '__schema',
  '__typename',
  'nope',
];
const ARGS = [
  'metric',
  'grain',
  'from',
  'to',
  'station',
  'errorCode',
  'where',
  'id',
  'limit',
  'after',
  'entity',
  'connector',
  'bogus',
];
const SUB = [
  'total',
  'points { bucket value station { id name errorCount(from: "2026-11-22T07:00:00Z", to: "2026-11-23T07:00:00Z") } }',
  'freshness { batchOffsets }',
  'id',
  'name',
  'errorRate',
  '__typename',
  'missing',
];

const query = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.constantFrom(...FIELDS),
        fc.array(fc.tuple(fc.constantFrom(...ARGS), literal), { maxLength: 5 }),
        fc.subarray(SUB),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    fc.boolean(),
  )
  .map(
    ([fields, alias]) =>
      `{ ${fields.map(([f, args, sub], i) => `${alias ? `a${i}: ` : ''}${f}${args.length ? `(${args.map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}${sub.length ? ` { ${sub.join(' ')} }` : ''}`).join(' ')} }`,
  );

/** A valid query with characters deleted, inserted or replaced. */
const mutated = fc
  .array(fc.tuple(fc.nat(VALID.length), fc.nat(3), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 4 })
  .map((edits) => edits.reduce((q, [at, del, ins]) => q.slice(0, at) + ins + q.slice(at + del), VALID));

// (Once skipped: under vitest a second graphql-js instance made the gateway answer 500 to everything
// after the first query that reached the cost plugin; vitest.config.ts now resolves one instance.)
describe('gateway under fuzzed input', () => {
  before(async () => {
    stack = await startFixtureStack(ROWS);
    stack.setReady(true);
    process.stderr.write(`gateway fuzz: seed ${SEED}, ${RUNS} runs per property\n`);
  });
  after(async () => {
    await stack?.close();
  });

  it('random queries built from the schema and from garbage', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(query, mutated, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 80 })),
        (q) => post({ query: q }),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('random variables for a query that declares them', async () => {
    const q = `query($m: ProductionMetric!, $g: Grain!, $from: DateTime!, $to: DateTime!, $s: ID, $w: [DimensionFilter!]) {
      productionSeries(metric: $m, grain: $g, from: $from, to: $to, station: $s) { total }
      metricSeries(metric: "parts_exited", grain: $g, from: $from, to: $to, where: $w) { metric } }`;
    const anything = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        'PARTS_EXITED',
        'HOUR',
        '2026-11-22T07:00:00Z',
        '2026-11-22T08:00:00Z',
        'not-a-date',
        '2026-02-30T00:00:00Z',
      ),
    );
    const vars = fc.oneof(
      fc.record(
        { m: anything, g: anything, from: anything, to: anything, s: anything, w: anything },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    );
    await fc.assert(
      fc.asyncProperty(vars, fc.option(fc.string({ maxLength: 10 })), (variables, operationName) =>
        post({ query: q, variables, operationName }),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('malformed request bodies, content types and methods', async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            query: fc.jsonValue({ maxDepth: 1 }),
            variables: fc.jsonValue({ maxDepth: 1 }),
            extensions: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.constantFrom(
        '',
        '{',
        'null',
        '[]',
        `[{"query":"${VALID.replace(/"/g, '\\"')}"}]`,
        '{"query": "{ __typename }", "variables": "[]"}',
      ),
    );
    const type = fc.constantFrom(
      'application/json',
      'text/plain',
      'application/graphql',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
    );
    await fc.assert(
      fc.asyncProperty(body, type, (b, t) => post(b, t)),
      { seed: SEED, numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH'), (q, method) =>
        check({
          method,
          path: `?query=${encodeURIComponent(q)}&variables=${encodeURIComponent(q)}`,
          headers: { accept: 'application/json', ...AUTH },
        }),
      ),
      { seed: SEED, numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('still answers a good query afterwards', async () => {
    const res = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify({ query: VALID }),
    });
    const body = (await res.json()) as { data?: { productionSeries: { total: number } }; errors?: unknown };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.productionSeries.total, 5);
    assert.deepEqual(failures, []);
  });
});
