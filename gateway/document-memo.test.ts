import { test } from 'vitest';
import assert from 'node:assert/strict';
import { buildSchema, parse } from 'graphql';
import { createDocumentMemo, hasConditionalFields } from './document-memo.ts';

const schema = buildSchema('type Query { a: Int b: Int }');

test('keyed by schema, document object and key; a new schema forgets everything', () => {
  const memo = createDocumentMemo<number>();
  const doc = parse('{ a }');
  memo.set(schema, doc, 'k', 1);
  assert.equal(memo.get(schema, doc, 'k'), 1);
  assert.equal(memo.get(schema, doc, 'other'), undefined);
  assert.equal(memo.get(schema, parse('{ a }'), 'k'), undefined, 'another document object');
  const next = buildSchema('type Query { a: Int }');
  assert.equal(memo.get(next, doc, 'k'), undefined);
  assert.equal(memo.get(schema, doc, 'k'), undefined, 'gone, not kept beside the new schema');
});

test('bounded: least recently used documents and the oldest keys of a document leave first', () => {
  const memo = createDocumentMemo<number>({ maxDocuments: 2, maxPerDocument: 2 });
  const [d1, d2, d3] = [parse('{ a }'), parse('{ b }'), parse('{ a b }')];
  memo.set(schema, d1, 'k', 1);
  memo.set(schema, d2, 'k', 2);
  assert.equal(memo.get(schema, d1, 'k'), 1); // d1 is now the most recent
  memo.set(schema, d3, 'k', 3);
  assert.equal(memo.get(schema, d2, 'k'), undefined);
  assert.equal(memo.get(schema, d1, 'k'), 1);
  assert.equal(memo.get(schema, d3, 'k'), 3);
  memo.set(schema, d1, 'k2', 12);
  memo.set(schema, d1, 'k3', 13);
  assert.equal(memo.get(schema, d1, 'k'), undefined);
  assert.deepEqual([memo.get(schema, d1, 'k2'), memo.get(schema, d1, 'k3')], [12, 13]);
});

test('hasConditionalFields: @skip or @include anywhere, fragments included', () => {
  assert.equal(hasConditionalFields(parse('{ a b }')), false);
  assert.equal(hasConditionalFields(parse('query($x: Boolean!) { a @include(if: $x) }')), true);
  assert.equal(hasConditionalFields(parse('{ ...F } fragment F on Query { b @skip(if: true) }')), true);
  assert.equal(hasConditionalFields(parse('{ a @deprecated }')), false);
});
