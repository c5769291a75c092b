import { test, beforeAll as before, afterAll as after, describe } from 'vitest';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Registry } from 'prom-client';
import {
  FIXTURE_SECRET,
  fixtureToken,
  startFixtureStack,
  within,
  type FixtureStack,
} from './testing/start-fixture-stack.ts';
import { createAuthenticator } from './create-authenticator.ts';

const FROM = '2026-11-22T07:00:00.000Z';
const TO = '2026-11-22T08:00:00.000Z';
const DASHBOARD = `query Dashboard { stations { id name } productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "${FROM}", to: "${TO}") { total } }`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

/** A JWKS endpoint whose key set the test replaces (rotation). */
async function startJwks(): Promise<{
  url: string;
  keys: Array<{ kid: string; key: KeyObject }>;
  close(): Promise<void>;
}> {
  const state = { keys: [] as Array<{ kid: string; key: KeyObject }> };
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        keys: state.keys.map(({ kid, key }) => ({ ...key.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' })),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(k) {
      state.keys = k;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  } as never;
}

function rsa() {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

describe('authentication', () => {
  let stack: FixtureStack;
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  const a = rsa();
  const b = rsa();
  const sign = (priv: KeyObject, kid: string, claims: object = {}) =>
    jsonwebtoken.sign({ scope: 'production:read', ...claims }, priv, {
      algorithm: 'RS256',
      keyid: kid,
      expiresIn: 600,
      issuer: 'https://idp.test',
      audience: 'millrace',
    });
  const hs = (claims: object, opts: jsonwebtoken.SignOptions = {}) =>
    jsonwebtoken.sign(
      { scope: 'production:read', exp: Math.floor(Date.now() / 1000) + 600, ...claims },
      FIXTURE_SECRET,
      { algorithm: 'HS256', issuer: 'https://idp.test', audience: 'millrace', ...opts },
    );

  before(async () => {
    jwks = await startJwks();
    jwks.keys = [{ kid: 'a', key: a.publicKey }];
    stack = await startFixtureStack([], {
      security: {
        authenticator: createAuthenticator(
          {
            secret: FIXTURE_SECRET,
            jwksUrl: jwks.url,
            issuer: 'https://idp.test',
            audience: 'millrace',
            apiKeys: [{ name: 'grafana', key: 'grafana-key-0123456789', scopes: ['ops:read'] }],
          },
          (l) => stack?.logs.push(l),
        ),
      },
    });
  });
  after(async () => {
    await stack?.close();
    await jwks?.close();
  });

  const stations = (headers: Record<string, string>) =>
    post(stack.gateway.url, { query: '{ stations { id } }' }, headers);

  test('no credential → 401 UNAUTHENTICATED, nothing asked of a subgraph', async () => {
    const r = await stations({});
    assert.equal(r.status, 401);
    assert.equal(r.body.errors[0].extensions.code, 'UNAUTHENTICATED');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  });

  test('a valid HS256 token and a valid JWKS token pass', async () => {
    assert.equal((await stations(bearer(hs({})))).body.data.stations.length, 3);
    assert.equal((await stations(bearer(sign(a.privateKey, 'a')))).body.data.stations.length, 3);
  });

  test('expired, wrong audience, wrong issuer, alg none, a forged signature: all refused, the token never echoed or logged', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        scope: 'production:read',
        iss: 'https://idp.test',
        aud: 'millrace',
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    ).toString('base64url');
    const bad = {
      expired: hs({ exp: Math.floor(Date.now() / 1000) - 60 }),
      audience: hs({}, { audience: 'someone-else' }),
      issuer: hs({}, { issuer: 'https://evil.test' }),
      none: `${header}.${payload}.`,
      forged: jsonwebtoken.sign({ scope: 'production:read' }, 'another-secret-0123456789abcdef0123', {
        algorithm: 'HS256',
        issuer: 'https://idp.test',
        audience: 'millrace',
        expiresIn: 600,
      }),
      garbage: 'not-a-jwt',
    };
    for (const [what, token] of Object.entries(bad)) {
      const r = await stations(bearer(token));
      assert.equal(r.status, 401, what);
      assert.equal(r.body.errors[0].extensions.code, 'UNAUTHENTICATED', what);
      assert.ok(!r.text.includes(token), `${what}: token echoed`);
      assert.ok(!stack.logs.some((l) => l.includes(token)), `${what}: token logged`);
    }
    assert.ok(
      stack.logs.some((l) => /jwt expired/.test(l)),
      'the reason is logged for operators',
    );
    assert.ok(stack.logs.some((l) => /algorithm "none"/.test(l)));
  });

  test('JWKS rotation: a new kid is fetched without a restart; a key taken out of the set is refused', async () => {
    jwks.keys = [{ kid: 'b', key: b.publicKey }];
    assert.equal((await stations(bearer(sign(b.privateKey, 'b')))).body.data.stations.length, 3, 'new key b');
    // Key a was cached while it was current; a token naming a kid never published fails.
    const unknown = await stations(bearer(sign(a.privateKey, 'c')));
    assert.equal(unknown.body.errors[0].extensions.code, 'UNAUTHENTICATED');
    // Key confusion: an RS256 kid with an HS256 signature made from the public key.
    const pem = b.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const confused = jsonwebtoken.sign({ scope: 'production:read' }, FIXTURE_SECRET + pem, {
      algorithm: 'HS256',
      keyid: 'b',
      issuer: 'https://idp.test',
      audience: 'millrace',
      expiresIn: 600,
    });
    assert.equal((await stations(bearer(confused))).body.errors[0].extensions.code, 'UNAUTHENTICATED');
  });

  test('API keys carry their configured scopes', async () => {
    const r = await post(
      stack.gateway.url,
      { query: '{ deadLetters { edges { node { connector } } } stations { id } }' },
      { 'x-api-key': 'grafana-key-0123456789' },
    );
    assert.deepEqual(r.body.data.deadLetters.edges, [{ node: { connector: 'machining' } }], r.text);
    assert.equal(r.body.data.stations, null);
    assert.equal(r.body.errors[0].extensions.code, 'FORBIDDEN');
    assert.equal((await stations({ 'x-api-key': 'wrong-key-0123456789' })).status, 401);
    const base = stack.gateway.url.replace(/\/graphql$/, '');
    assert.equal(
      (await fetch(`${base}/status`, { headers: { 'x-api-key': 'grafana-key-0123456789' } })).status,
      200,
      'ops:read opens /status',
    );
    assert.equal((await fetch(`${base}/status`, { headers: bearer(hs({})) })).status, 403, 'production:read does not');
  });
});

describe('scopes from @requiresScopes, on queries and subscriptions', () => {
  let stack: FixtureStack;
  before(async () => {
    stack = await startFixtureStack([
      { metric: 'parts_exited', bucket: Date.parse(FROM), dims: { station: 'CUT' }, cells: [5] },
    ]);
  });
  after(async () => stack?.close());
  const as = (scopes: string[], query: string) => post(stack.gateway.url, { query }, bearer(fixtureToken(scopes)));

  test('each domain scope opens its fields and only those; the rest of the answer still arrives', async () => {
    const query = `{ stations { id errorCount(from: "${FROM}", to: "${TO}") } productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "${FROM}", to: "${TO}") { total } }`;
    const prod = await as(['production:read'], query);
    assert.equal(prod.status, 200);
    assert.equal(prod.body.data.productionSeries.total, 5);
    assert.deepEqual(
      prod.body.data.stations.map((s: { id: string; errorCount: unknown }) => [s.id, s.errorCount]),
      [
        ['CUT', null],
        ['WELD', null],
        ['PAINT', null],
      ],
    );
    assert.deepEqual(
      prod.body.errors.map((e: { extensions: { code: string }; message: string }) => [e.extensions.code, e.message]),
      [['FORBIDDEN', 'Station.errorCount needs scope quality:read']],
    );
    const both = await as(['production:read', 'quality:read'], query);
    assert.equal(both.body.errors, undefined);
    const quality = await as(['quality:read'], query);
    assert.equal(quality.body.data.productionSeries, null);
    assert.ok(quality.body.errors.every((e: { extensions: { code: string } }) => e.extensions.code === 'FORBIDDEN'));
  });

  test('a field left out by @skip/@include needs no scope, nor do the fields under it; included, it does', async () => {
    // The dashboard's case: `worker` (type and field need pii:read) asked for only with the scope.
    const query = `query Q($pii: Boolean!, $noPii: Boolean!) {
      workers(from: "${FROM}", to: "${TO}", first: 5) {
        edges { node { department { id } worker @include(if: $pii) { id name } ...Who } }
      }
    }
    fragment Who on WorkerFigures { worker @skip(if: $noPii) { id } }`;
    const run = (pii: boolean) =>
      post(
        stack.gateway.url,
        { query, variables: { pii, noPii: !pii } },
        bearer(fixtureToken(['workforce:read', 'production:read'])),
      );
    const off = await run(false);
    assert.equal(off.body.errors, undefined, JSON.stringify(off.body.errors));
    assert.ok(off.body.data.workers, JSON.stringify(off.body));
    const on = await run(true);
    assert.ok(on.body.errors?.length, JSON.stringify(on.body));
    assert.ok(
      on.body.errors.every(
        (e: { extensions: { code: string }; message: string }) =>
          e.extensions.code === 'FORBIDDEN' && e.message.includes('pii:read'),
      ),
      JSON.stringify(on.body.errors),
    );
  });

  test('a remembered check is per scopes and variables: the same document is refused for one after being allowed for another', async () => {
    const query = `query Q { stations { id errorCount(from: "${FROM}", to: "${TO}") } }`;
    const send = (scopes: string[]) => post(stack.gateway.url, { query }, bearer(fixtureToken(scopes)));
    const codes = (r: Awaited<ReturnType<typeof send>>) =>
      (r.body.errors ?? []).map((e: { extensions: { code: string } }) => e.extensions.code);
    // Twice each, alternating: the second asking of each is answered from what the first left.
    for (let round = 0; round < 2; round++) {
      const allowed = await send(['production:read', 'quality:read']);
      assert.deepEqual(codes(allowed), [], allowed.text);
      assert.equal(allowed.body.data.stations.length, 3);
      const refused = await send(['production:read']);
      assert.deepEqual(codes(refused), ['FORBIDDEN'], refused.text);
      assert.equal(refused.body.data.stations[0].errorCount, null);
      // The same scopes in another order are the same set; no scopes at all is refused too.
      assert.deepEqual(codes(await send(['quality:read', 'production:read'])), []);
      const none = await send([]);
      assert.deepEqual(codes(none), ['FORBIDDEN'], none.text);
      assert.equal(none.body.data?.stations ?? null, null);
    }
    // @skip/@include: the variables decide what is checked, so they are part of what is remembered.
    const cond = `query C($q: Boolean!) { stations { id errorCount(from: "${FROM}", to: "${TO}") @include(if: $q) } }`;
    for (let round = 0; round < 2; round++) {
      for (const q of [false, true]) {
        const r = await post(
          stack.gateway.url,
          { query: cond, variables: { q } },
          bearer(fixtureToken(['production:read'])),
        );
        assert.deepEqual(codes(r), q ? ['FORBIDDEN'] : [], `round ${round}, q=${q}: ${r.text}`);
      }
    }
  });

  test('ops:read for dead letters; the raw input of personal sources also needs pii:read', async () => {
    const q = '{ deadLetters { edges { node { connector reason raw personalRaw } } } }';
    assert.equal((await as(['production:read'], q)).body.errors[0].extensions.code, 'FORBIDDEN');
    const ops = await as(['ops:read'], q);
    assert.deepEqual(
      ops.body.data.deadLetters.edges,
      [{ node: { connector: 'machining', reason: 'not JSON', raw: '{oops', personalRaw: null } }],
      ops.text,
    );
    assert.deepEqual(
      ops.body.errors.map((e: { message: string; extensions: { code: string } }) => [e.extensions.code, e.message]),
      [['FORBIDDEN', 'DeadLetter.personalRaw needs scope pii:read']],
    );
    const pii = await as(['ops:read', 'pii:read'], q);
    assert.equal(pii.body.errors, undefined, pii.text);
    // Workers are personal as a whole type.
    const workers = await as(
      ['workforce:read'],
      `{ workers(from: "${FROM}", to: "${TO}") { edges { node { worker { id name } } } } }`,
    );
    assert.ok(
      workers.body.errors?.some(
        (e: { extensions: { code: string }; message: string }) =>
          e.extensions.code === 'FORBIDDEN' && /pii:read/.test(e.message),
      ),
      workers.text,
    );
  });

  test('subscriptions: refused without the scope or a token, delivered with it (graphql-ws connection_init and SSE)', async () => {
    const ws = (params: Record<string, unknown>) =>
      createClient({
        url: stack.gateway.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: params,
        lazy: true,
      });
    const sub = 'subscription { productionDeltas { cursor } }';
    for (const [params, code] of [
      [{}, 'UNAUTHENTICATED'],
      [bearer(fixtureToken(['quality:read'])), 'FORBIDDEN'],
    ] as const) {
      const client = ws(params);
      try {
        const first = await within(client.iterate({ query: sub }).next(), 'a refusal');
        assert.equal(
          (first.value as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code,
          code,
        );
      } finally {
        await client.dispose();
      }
    }
    const client = ws(bearer(fixtureToken(['production:read'])));
    try {
      const it = client.iterate<{ productionDeltas: { cursor: string } }>({ query: sub });
      const first = it.next();
      await stack.serving.waitFor(() => stack.serving.openFeeds === 1);
      stack.serving.push([]);
      assert.ok((await within(first, 'a delta')).value.data?.productionDeltas.cursor);
      await it.return?.();
      await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
    } finally {
      await client.dispose();
    }
    // SSE: the same token in the Authorization header of the event-stream request.
    const refused = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...bearer(fixtureToken(['quality:read'])),
      },
      body: JSON.stringify({ query: sub }),
    });
    const text = await within(readUntil(refused, /FORBIDDEN/), 'an SSE refusal');
    assert.match(text, /Subscription.productionDeltas needs scope production:read/);
  });

  test('a subscription ends with UNAUTHENTICATED when its token expires', async () => {
    const token = jsonwebtoken.sign(
      { scope: 'production:read', exp: Math.floor(Date.now() / 1000) + 2 },
      FIXTURE_SECRET,
      { algorithm: 'HS256' },
    );
    const client = createClient({
      url: stack.gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: bearer(token),
    });
    try {
      const it = client.iterate<unknown>({ query: 'subscription { productionDeltas { cursor } }' });
      await Promise.all([stack.serving.waitFor(() => stack.serving.openFeeds === 1), Promise.resolve()]);
      const ended = await within(it.next(), 'the expiry', 10_000);
      assert.equal(
        (ended.value as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code,
        'UNAUTHENTICATED',
      );
      assert.equal((await within(it.next(), 'the end')).done, true);
      await stack.serving.waitFor(() => stack.serving.openFeeds === 0);
    } finally {
      await client.dispose();
    }
  });
});

async function readUntil(res: Response, pattern: RegExp): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  for (let i = 0; i < 50; i++) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
    if (pattern.test(text)) break;
  }
  await reader.cancel().catch(() => undefined);
  return text;
}

describe('abuse limits', () => {
  let stack: FixtureStack;
  const registry = new Registry();
  before(async () => {
    stack = await startFixtureStack([], { security: { metricsRegistry: registry, deadlineMs: 300 } });
  });
  after(async () => stack?.close());
  const send = (body: unknown) => post(stack.gateway.url, body, stack.headers);

  test("each bomb is refused with its own code, and the same client's dashboard query still passes", async () => {
    const range = `from: "2025-11-22T00:00:00Z", to: "${TO}"`;
    const frag = [
      'fragment F0 on Station { id name zone { id } }',
      ...Array.from({ length: 12 }, (_, i) => `fragment F${i + 1} on Station { ...F${i} ...F${i} }`),
    ].join('\n');
    const bombs: Array<[string, unknown, string, number?]> = [
      [
        'aliases',
        { query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: stations { id }`).join(' ')} }` },
        'ALIAS_LIMIT',
      ],
      ['directives', { query: `{ stations { id ${'@include(if: true) '.repeat(25)} } }` }, 'DIRECTIVE_LIMIT'],
      ['tokens', { query: `{ ${Array.from({ length: 700 }, () => 'stations { id }').join(' ')} }` }, 'TOKEN_LIMIT'],
      [
        'cost',
        { query: `{ ${Array.from({ length: 20 }, (_, i) => `s${i}: stations { errorRate(${range}) }`).join(' ')} }` },
        'COST_LIMIT',
      ],
      [
        'cost via variables',
        {
          query:
            'query($from: DateTime!, $to: DateTime!) { productionSeries(metric: PARTS_EXITED, grain: MINUTE, from: $from, to: $to) { total } }',
          variables: { from: '2025-01-01T00:00:00Z', to: TO },
        },
        'COST_LIMIT',
      ],
      ['fragments', { query: `{ stations { ...F12 } }\n${frag}` }, 'COST_LIMIT'],
      ['body', JSON.stringify({ query: '{ stations { id } }', padding: 'x'.repeat(70_000) }), 'BODY_TOO_LARGE', 413],
      [
        'variables',
        { query: 'query($s: String) { stations { id } }', variables: { s: 'x'.repeat(20_000) } },
        'VARIABLES_TOO_LARGE',
        413,
      ],
    ];
    for (const [what, body, code, status] of bombs) {
      const r = await send(body);
      assert.equal(r.body.errors?.[0]?.extensions?.code, code, `${what}: ${r.text.slice(0, 300)}`);
      if (status) assert.equal(r.status, status, what);
      assert.equal(r.body.data ?? null, null, what);
      const ok = await send({ query: DASHBOARD });
      assert.equal(ok.body.errors, undefined, `dashboard after ${what}: ${ok.text}`);
    }
  });

  test('a remembered cost estimate is per variables: the same document passes with a day and is refused with a year, each time', async () => {
    const query =
      'query($from: DateTime!, $to: DateTime!) { productionSeries(metric: PARTS_EXITED, grain: MINUTE, from: $from, to: $to) { total } }';
    for (let round = 0; round < 2; round++) {
      const day = await send({ query, variables: { from: '2026-11-21T08:00:00Z', to: TO } });
      assert.equal(day.body.errors, undefined, `round ${round}: ${day.text}`);
      const year = await send({ query, variables: { from: '2025-11-22T08:00:00Z', to: TO } });
      assert.equal(year.body.errors?.[0]?.extensions?.code, 'COST_LIMIT', `round ${round}: ${year.text}`);
      assert.equal(year.body.data ?? null, null);
    }
  });

  test('a chunked body (no Content-Length) is counted as it is read: over the limit, BODY_TOO_LARGE', async () => {
    const chunked = (size: number) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          stack.gateway.url,
          { method: 'POST', headers: { 'content-type': 'application/json', ...stack.headers } },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode!, text }));
          },
        );
        req.on('error', reject);
        const body = JSON.stringify({ query: '{ stations { id } }', ...(size > 0 && { padding: 'x'.repeat(size) }) });
        // Two writes before end(): Node sends Transfer-Encoding: chunked, no Content-Length.
        req.write(body.slice(0, 10));
        req.end(body.slice(10));
      });
    const big = await chunked(70_000);
    assert.equal(big.status, 413, big.text);
    assert.equal(JSON.parse(big.text).errors[0].extensions.code, 'BODY_TOO_LARGE');
    const small = await chunked(0);
    assert.equal(small.status, 200, small.text);
    assert.equal(JSON.parse(small.text).errors, undefined, small.text);
  });

  test('depth: nested past the limit is DEPTH_LIMIT', async () => {
    const shallow = await startFixtureStack([], { security: { limits: { maxDepth: 2 } } });
    try {
      const r = await post(
        shallow.gateway.url,
        {
          query:
            '{ productionSeries(metric: PARTS_EXITED, grain: HOUR, from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") { points { station { id } } } }',
        },
        shallow.headers,
      );
      assert.equal(r.body.errors[0].extensions.code, 'DEPTH_LIMIT', r.text);
      assert.equal(
        (await post(shallow.gateway.url, { query: '{ stations { id } }' }, shallow.headers)).body.errors,
        undefined,
      );
    } finally {
      await shallow.close();
    }
  });

  test('a query past its deadline is cut with DEADLINE_EXCEEDED; the subgraph got the deadline', async () => {
    let release!: () => void;
    stack.serving.hold(new Promise<void>((r) => (release = r)));
    try {
      const calls = stack.serving.seriesCalls.length;
      const r = await send({ query: DASHBOARD });
      assert.equal(r.body.errors[0].extensions.code, 'DEADLINE_EXCEEDED', r.text);
      const q = stack.serving.seriesCalls[calls];
      assert.ok(q.deadline && q.deadline > Date.now() - 10_000, 'x-millrace-deadline reached the serving read');
    } finally {
      stack.serving.hold(null);
      release();
    }
    assert.equal((await send({ query: DASHBOARD })).body.errors, undefined);
  });

  test('per-operation metrics: count, errors by code, latency', async () => {
    const text = await registry.metrics();
    assert.match(text, /millrace_graphql_operations_total\{operation="Dashboard",type="query"\} [1-9]/);
    assert.match(text, /millrace_graphql_errors_total\{operation="[^"]*",code="COST_LIMIT"\} [1-9]/);
    assert.match(text, /millrace_graphql_errors_total\{operation="Dashboard",code="DEADLINE_EXCEEDED"\} 1/);
    assert.match(text, /millrace_graphql_operation_duration_seconds_count\{operation="Dashboard",type="query"\} [1-9]/);
  });

  test('rate limit per client: over the burst → RATE_LIMITED (429), another client unaffected', async () => {
    const limited = await startFixtureStack([], { security: { rateLimit: { perMinute: 1, burst: 2 } } });
    try {
      const q = { query: '{ stations { id } }' };
      const me = bearer(fixtureToken(undefined));
      assert.equal((await post(limited.gateway.url, q, me)).status, 200);
      assert.equal((await post(limited.gateway.url, q, me)).status, 200);
      const third = await post(limited.gateway.url, q, me);
      assert.equal(third.status, 429);
      assert.equal(third.body.errors[0].extensions.code, 'RATE_LIMITED');
      assert.ok(Number(third.headers.get('retry-after')) > 0);
      const other = bearer(
        jsonwebtoken.sign({ sub: 'someone-else', scope: 'production:read' }, FIXTURE_SECRET, {
          algorithm: 'HS256',
          expiresIn: 60,
        }),
      );
      assert.equal((await post(limited.gateway.url, q, other)).status, 200);
    } finally {
      await limited.close();
    }
  });
});

describe('exposure', () => {
  let stack: FixtureStack;
  before(async () => {
    stack = await startFixtureStack([], {
      security: {
        allowedOrigins: ['https://ops.example.com'],
        introspection: false,
        graphiql: false,
        persistedOperations: { dash: '{ stations { id } }' },
        persistedOnly: true,
      },
    });
  });
  after(async () => stack?.close());

  test('a cross-origin read is refused (403) and its preflight gets no CORS grant; an allowed origin gets exactly its own', async () => {
    const evil = await post(
      stack.gateway.url,
      { documentId: 'dash' },
      { ...stack.headers, origin: 'http://evil.example' },
    );
    assert.equal(evil.status, 403);
    assert.equal(evil.body.errors[0].extensions.code, 'FORBIDDEN_ORIGIN');
    const preflight = await fetch(stack.gateway.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    assert.notEqual(preflight.headers.get('access-control-allow-origin'), 'http://evil.example');
    assert.notEqual(preflight.headers.get('access-control-allow-origin'), '*');
    const good = await post(
      stack.gateway.url,
      { documentId: 'dash' },
      { ...stack.headers, origin: 'https://ops.example.com' },
    );
    assert.equal(good.status, 200, good.text);
    assert.equal(good.headers.get('access-control-allow-origin'), 'https://ops.example.com');
    const host = new URL(stack.gateway.url).host;
    assert.equal(
      (await post(stack.gateway.url, { documentId: 'dash' }, { ...stack.headers, origin: `http://${host}` })).status,
      200,
      'same origin',
    );
  });

  test('graphql-ws refuses a handshake from a foreign Origin', async () => {
    const socket = new WebSocket(stack.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws', {
      origin: 'http://evil.example',
    });
    const status = await within(
      new Promise<number>((resolve) =>
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).on('open', () => resolve(101)),
      ),
      'the handshake',
    );
    socket.on('error', () => undefined);
    socket.terminate();
    assert.equal(status, 401);
  });

  test('persisted-only: arbitrary documents are refused, the persisted one runs; introspection and GraphiQL off', async () => {
    const arbitrary = await post(stack.gateway.url, { query: '{ stations { id name } }' }, stack.headers);
    assert.ok(arbitrary.body.errors[0].extensions.code, arbitrary.text);
    assert.equal(arbitrary.body.data ?? null, null);
    const persisted = await post(stack.gateway.url, { documentId: 'dash' }, stack.headers);
    assert.equal(persisted.body.data.stations.length, 3);
    const open = await startFixtureStack([], { security: { introspection: false, graphiql: false } });
    try {
      const intro = await post(open.gateway.url, { query: '{ __schema { types { name } } }' }, open.headers);
      assert.ok(intro.body.errors?.length, intro.text);
      const page = await fetch(open.gateway.url, { headers: { accept: 'text/html' } });
      assert.doesNotMatch(await page.text(), /renderYogaGraphiQL/);
    } finally {
      await open.close();
    }
  });

  test('CSRF prevention: a GET without a credential or CSRF header is refused', async () => {
    const res = await fetch(`${stack.gateway.url}?documentId=dash`);
    assert.ok(res.status >= 400, String(res.status));
  });
});
