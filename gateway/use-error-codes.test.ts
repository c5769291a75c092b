import { test } from 'vitest';
import assert from 'node:assert/strict';
import { GraphQLError } from 'graphql';
import { MillraceError } from '../lib/errors.ts';
import { createErrorMask, useErrorCodes } from './use-error-codes.ts';

const logs: string[] = [];
const mask = createErrorMask({ log: (l) => void logs.push(l) });
const json = (e: GraphQLError) => JSON.parse(JSON.stringify(e.toJSON()));

test('MillraceError keeps code and message; INTERNAL is masked', () => {
  const kept = mask(
    new GraphQLError('wrapped', {
      path: ['a'],
      originalError: new MillraceError('UNAVAILABLE', 'try again', { retryable: true }),
    }),
  );
  assert.deepEqual(json(kept), {
    message: 'try again',
    path: ['a'],
    extensions: { code: 'UNAVAILABLE', retryable: true },
  });
  const masked = mask(new GraphQLError('x', { originalError: new MillraceError('INTERNAL', 'pg: secret') }));
  assert.deepEqual(json(masked), { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
});

test('errors caused by anything else are INTERNAL_SERVER_ERROR, logged with their stack', () => {
  const out = mask(
    new GraphQLError('ENOENT /etc/secret', { path: ['q'], originalError: new Error('ENOENT /etc/secret') }),
  );
  assert.deepEqual(json(out), {
    message: 'Internal server error',
    path: ['q'],
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
  assert.match(logs.at(-1)!, /ENOENT \/etc\/secret\n\s+at /);
});

test('deliberate GraphQLErrors pass, minus debug extensions; uncoded request errors are BAD_USER_INPUT', () => {
  const sub = mask(
    new GraphQLError('bad from', {
      path: ['q'],
      extensions: { code: 'BAD_USER_INPUT', serviceName: 'production', stacktrace: ['at x'], exception: {} },
    }),
  );
  assert.deepEqual(json(sub), {
    message: 'bad from',
    path: ['q'],
    extensions: { code: 'BAD_USER_INPUT', serviceName: 'production' },
  });
  const variable = mask(new GraphQLError('Variable "$m" got invalid value'));
  assert.equal(variable.extensions.code, 'BAD_USER_INPUT');
});

test('a failed subgraph request names the subgraph, not its address, and drops the request dump', () => {
  const out = mask(
    new GraphQLError('connect ECONNREFUSED 10.0.0.7:4001', {
      path: ['stations'],
      extensions: { code: 'SUBREQUEST_HTTP_ERROR', serviceName: 'quality', request: { body: '{...}' } },
    }),
  );
  assert.deepEqual(json(out), {
    message: 'subgraph quality is unavailable',
    path: ['stations'],
    extensions: { code: 'SUBREQUEST_HTTP_ERROR', serviceName: 'quality', retryable: true },
  });
});

test('the plugin masks single results and every event of a stream', async () => {
  const plugin = useErrorCodes({ log: () => undefined }) as any;
  const boom = { data: null, errors: [new GraphQLError('boom', { originalError: new Error('boom') })] };
  let single: any;
  plugin.onExecute().onExecuteDone({ result: boom, setResult: (r: unknown) => (single = r) });
  assert.equal(single.errors[0].extensions.code, 'INTERNAL_SERVER_ERROR');
  let event: any;
  const hooks = plugin
    .onSubscribe()
    .onSubscribeResult({ result: (async function* () {})(), setResult: () => undefined });
  hooks.onNext({ result: boom, setResult: (r: unknown) => (event = r) });
  assert.equal(event.errors[0].message, 'Internal server error');
});
