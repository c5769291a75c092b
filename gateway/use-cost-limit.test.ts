import { test } from 'vitest';
import assert from 'node:assert/strict';
import { buildSchema, parse } from 'graphql';
import { estimateCost } from './use-cost-limit.ts';

const schema = buildSchema(`
  enum Grain { MINUTE HOUR DAY }
  type Query { stations: [Station!]! series(grain: Grain!, from: String!, to: String!): Series! items(first: Int): [Station!]! }
  type Station { id: ID! errorRate(from: String!, to: String!): Float }
  type Series { total: Float points: [Point!]! }
  type Point { value: Float }
`);
const cost = (q: string, vars: Record<string, unknown> = {}) => estimateCost(schema, parse(q), undefined, vars);
const DAY = 'from: "2026-11-22T00:00:00Z", to: "2026-11-23T00:00:00Z"';

test('the documented estimate: fields 1, a ranged read 10 + buckets, lists × limit or 20', () => {
  assert.equal(cost('{ stations { id } }'), 1 + 20 * 1);
  assert.equal(cost(`{ series(grain: HOUR, ${DAY}) { total } }`), 1 + 10 + 24 + 1);
  assert.equal(cost(`{ series(grain: MINUTE, ${DAY}) { total } }`), 1 + 10 + 1440 + 1);
  assert.equal(cost(`{ stations { errorRate(${DAY}) } }`), 1 + 20 * (1 + 10 + 24), 'no grain: HOUR');
  assert.equal(cost('{ items(first: 3) { id } }'), 1 + 3);
  assert.equal(cost('query($n: Int) { items(first: $n) { id } }', { n: 5 }), 1 + 5, 'arguments from variables');
  assert.equal(
    cost(`query($f: String!, $t: String!) { series(grain: DAY, from: $f, to: $t) { total } }`, {
      f: '2026-01-01T00:00:00Z',
      t: '2027-01-01T00:00:00Z',
    }),
    1 + 10 + 365 + 1,
  );
});

test('fragments count where spread, and a doubling chain is costed without expanding it', () => {
  assert.equal(cost('{ stations { ...F } } fragment F on Station { id }'), 1 + 20);
  const chain = [
    'fragment F0 on Station { id }',
    ...Array.from({ length: 40 }, (_, i) => `fragment F${i + 1} on Station { ...F${i} ...F${i} }`),
  ].join('\n');
  assert.equal(cost(`{ stations { ...F40 } }\n${chain}`), 1 + 20 * 2 ** 40);
});
