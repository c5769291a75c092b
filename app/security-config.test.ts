import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { parseApiKeys, securityFromConfig } from './security-config.ts';

const PROD = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' };

test('production (DATABASE_URL) refuses to start without a key source; MILLRACE_AUTH=off is allowed and loud', async () => {
  await assert.rejects(
    securityFromConfig(loadConfig(PROD), () => undefined),
    /no key source: set MILLRACE_JWT_SECRET, MILLRACE_JWKS_URL or MILLRACE_API_KEYS/,
  );
  const lines: string[] = [];
  const off = await securityFromConfig(loadConfig({ ...PROD, MILLRACE_AUTH: 'off' }), (l) => lines.push(l));
  assert.equal(off.authOff, true);
  assert.match(lines.join('\n'), /WARNING: MILLRACE_AUTH=off/);
  assert.deepEqual((await off.security.authenticator.authenticate({})).kind, 'off');
  const keyed = await securityFromConfig(
    loadConfig({ ...PROD, MILLRACE_API_KEYS: 'grafana:0123456789abcdefgh:ops:read+production:read' }),
    () => undefined,
  );
  assert.equal(keyed.devToken, undefined, 'no dev token outside embedded mode');
  assert.equal(keyed.security.introspection, false, 'introspection off in production by default');
  assert.equal(keyed.security.graphiql, false, 'GraphiQL off in production by default');
  assert.deepEqual((await keyed.security.authenticator.authenticate({ apiKey: '0123456789abcdefgh' })).scopes, [
    'ops:read',
    'production:read',
  ]);
});

test('embedded: a secret made once under MILLRACE_DATA_DIR (0600), a dev token with every scope that GraphiQL sends', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'millrace-sec-'));
  const c = loadConfig({ MILLRACE_DATA_DIR: dir });
  const first = await securityFromConfig(c, () => undefined);
  const secretFile = path.join(dir, 'auth-secret');
  assert.equal((await stat(secretFile)).mode & 0o777, 0o600);
  const again = await securityFromConfig(c, () => undefined);
  assert.ok(first.devToken && again.devToken);
  const principal = await again.security.authenticator.authenticate({ authorization: `Bearer ${first.devToken}` });
  assert.deepEqual(
    principal.scopes.sort(),
    ['energy:read', 'ops:read', 'pii:read', 'production:read', 'quality:read', 'workforce:read'],
    'the secret survived: the first token still verifies',
  );
  assert.deepEqual(again.security.graphiqlHeaders, { authorization: `Bearer ${again.devToken}` });
  assert.equal(again.security.introspection, true);
  assert.ok((await readFile(secretFile, 'utf8')).trim().length >= 32);
});

test('API keys: name:key:scope+scope, scopes containing colons; a short key or no scope is a clear error', () => {
  assert.deepEqual(parseApiKeys('a:0123456789abcdef:ops:read+pii:read, b:fedcba9876543210:production:read'), [
    { name: 'a', key: '0123456789abcdef', scopes: ['ops:read', 'pii:read'] },
    { name: 'b', key: 'fedcba9876543210', scopes: ['production:read'] },
  ]);
  assert.throws(() => parseApiKeys('a:short:ops:read'), /MILLRACE_API_KEYS entry "a:…"/);
  assert.throws(() => parseApiKeys('a:0123456789abcdef'), /expected name:key:scope/);
});
