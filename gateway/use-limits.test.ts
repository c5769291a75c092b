import { test } from 'vitest';
import assert from 'node:assert/strict';
import { buildSchema, getIntrospectionQuery, parse, validate, type DocumentNode, type ValidationRule } from 'graphql';
import { useLimits, type LimitsOptions } from './use-limits.ts';

const schema = buildSchema(`type Query { node: Node } type Node { id: ID child: Node }`);

/** The plugin's own hooks, driven as envelop drives them. */
function limits(opts: LimitsOptions) {
  const plugin = useLimits(opts) as any;
  let parseFn = (source: string, options?: object): DocumentNode => parse(source, options);
  plugin.onParse({ parseFn, setParseFn: (fn: typeof parseFn) => (parseFn = fn) });
  const rules: ValidationRule[] = [];
  plugin.onValidate({ addValidationRule: (rule: ValidationRule) => rules.push(rule) });
  return {
    parse: (s: string) => parseFn(s),
    errors: (s: string) => validate(schema, parse(s), rules).map((e) => `${e.extensions.code}: ${e.message}`),
  };
}

const nested = (depth: number) => `{ ${'node { '.repeat(depth - 1)}id${' }'.repeat(depth - 1)} }`;

test('depth: at the limit passes, one deeper is refused with the depth named', () => {
  const { errors } = limits({ maxDepth: 4 });
  assert.deepEqual(errors(nested(4)), []);
  assert.deepEqual(errors(nested(5)), ['DEPTH_LIMIT: Query depth limit of 4 exceeded, found 5.']);
});

test('depth follows fragments (and survives cycles, which validation reports on its own)', () => {
  const { errors } = limits({ maxDepth: 3 });
  assert.deepEqual(errors('query Q { node { ...F } } fragment F on Node { child { child { id } } }'), [
    'DEPTH_LIMIT: Query depth limit of 3 exceeded, found 4.',
  ]);
  assert.deepEqual(errors('{ node { ... on Node { id } } }'), []);
  assert.deepEqual(errors('{ node { ...A } } fragment A on Node { child { ...A } }'), []);
});

test('introspection is not depth-limited (GraphiQL needs it)', () => {
  const { errors } = limits({ maxDepth: 2 });
  assert.deepEqual(errors(getIntrospectionQuery()), []);
});

test('tokens: a document over the limit fails while parsing', () => {
  const { parse: limited } = limits({ maxTokens: 50 });
  assert.ok(limited(nested(5)));
  assert.throws(
    () => limited(`{ ${'node { id } '.repeat(20)} }`),
    (err: Error & { extensions?: { code?: string } }) =>
      err.extensions?.code === 'TOKEN_LIMIT' && /more than 50 tokens/.test(err.message),
  );
});

test('aliases and directives: over the limit is refused with its own code', () => {
  const { errors } = limits({ maxAliases: 2, maxDirectives: 2 });
  assert.deepEqual(errors('{ a: node { id } b: node { id } }'), []);
  assert.deepEqual(errors('{ a: node { id } b: node { id } c: node { id } }'), [
    'ALIAS_LIMIT: Aliases limit of 2 exceeded, found 3.',
  ]);
  assert.deepEqual(errors('{ node @include(if: true) { id @include(if: true) child @include(if: true) { id } } }'), [
    'DIRECTIVE_LIMIT: Directives limit of 2 exceeded, found 3.',
  ]);
});
