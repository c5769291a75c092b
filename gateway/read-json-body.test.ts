import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { AUTH, startFixtureStack, type FixtureStack } from './testing/start-fixture-stack.ts';

const QUERY = '{ stations { id } }';

/**
 * POSTs `body` with a Content-Length: `read`, as a client sends it (the gateway reads and parses it
 * before the runtime); `streamed`, with `Content-Encoding: identity` too, which the runtime ignores
 * (no content-encoding option is set) but which keeps the body from being read first: the runtime
 * reads the stream itself, as every body was read before.
 */
function send(
  url: string,
  body: Buffer,
  how: 'read' | 'streamed',
  headers: Record<string, string>,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          ...AUTH,
          ...headers,
          'content-length': String(body.length),
          ...(how === 'streamed' ? { 'content-encoding': 'identity' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            type: String(res.headers['content-type']),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('JSON bodies read before the runtime', () => {
  let stack: FixtureStack;
  before(async () => {
    stack = await startFixtureStack([]);
  });
  after(async () => stack?.close());

  it('answer exactly as the runtime reading the body itself: valid, invalid, odd and refused bodies', async () => {
    const json = { 'content-type': 'application/json' };
    const cases: Array<[string, Buffer, Record<string, string>]> = [
      ['a query', Buffer.from(JSON.stringify({ query: QUERY })), json],
      ['graphql+json', Buffer.from(JSON.stringify({ query: QUERY })), { 'content-type': 'application/graphql+json' }],
      ['charset', Buffer.from(JSON.stringify({ query: QUERY })), { 'content-type': 'application/json; charset=utf-8' }],
      ['invalid JSON', Buffer.from('{"query": '), json],
      ['empty object', Buffer.from('{}'), json],
      ['null', Buffer.from('null'), json],
      ['a string', Buffer.from('"{ stations { id } }"'), json],
      ['an array (batching is off)', Buffer.from(JSON.stringify([{ query: QUERY }])), json],
      ['a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ query: QUERY }))]), json],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x71, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), json],
      ['not a string query', Buffer.from('{"query": 5}'), json],
      [
        'variables too large',
        Buffer.from(JSON.stringify({ query: QUERY, variables: { s: 'x'.repeat(20_000) } })),
        json,
      ],
      ['a syntax error', Buffer.from(JSON.stringify({ query: '{ stations { id }' })), json],
      ['text/plain', Buffer.from(JSON.stringify({ query: QUERY })), { 'content-type': 'text/plain' }],
      ['application/graphql', Buffer.from(QUERY), { 'content-type': 'application/graphql' }],
      ['a foreign origin', Buffer.from(JSON.stringify({ query: QUERY })), { ...json, origin: 'https://evil.test' }],
    ];
    for (const [what, body, headers] of cases) {
      const read = await send(stack.gateway.url, body, 'read', headers);
      const streamed = await send(stack.gateway.url, body, 'streamed', headers);
      assert.deepEqual(read, streamed, what);
    }
    // And the answers are what they were meant to be.
    const ok = await send(stack.gateway.url, cases[0][1], 'read', json);
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.text).data.stations.length, 3);
    const bad = await send(stack.gateway.url, cases[3][1], 'read', json);
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.text).errors[0].extensions.code, 'BAD_REQUEST');
    const vars = await send(stack.gateway.url, cases[11][1], 'read', json);
    assert.equal(vars.status, 413);
    assert.equal(JSON.parse(vars.text).errors[0].extensions.code, 'VARIABLES_TOO_LARGE');
  });

  it('a Content-Length over the limit is still refused before the body is read (BODY_TOO_LARGE, 413)', async () => {
    const body = Buffer.from(JSON.stringify({ query: QUERY, padding: 'x'.repeat(70_000) }));
    const r = await send(stack.gateway.url, body, 'read', { 'content-type': 'application/json' });
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.text).errors[0].extensions.code, 'BODY_TOO_LARGE');
  });
});
