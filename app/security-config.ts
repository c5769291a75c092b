import path from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Config } from './config.ts';
import {
  ALL_SCOPES,
  createAuthenticator,
  randomSecret,
  signDevToken,
  type ApiKey,
} from '../gateway/create-authenticator.ts';
import type { SecurityOptions } from '../gateway/security.ts';

/** `name:key:scope+scope,…` → API keys (scopes contain `:`, so everything after the second `:` is scopes). */
export function parseApiKeys(spec: string | undefined): ApiKey[] {
  if (!spec) return [];
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name, key, ...rest] = entry.split(':');
      const scopes = rest.join(':').split('+').filter(Boolean);
      if (!name || !key || key.length < 16 || scopes.length === 0) {
        throw new Error(
          `MILLRACE_API_KEYS entry "${name ?? ''}:…": expected name:key:scope+scope with a key of ≥ 16 characters`,
        );
      }
      return { name, key, scopes };
    });
}

/**
 * The gateway's security settings from the configuration. Embedded mode (no DATABASE_URL) keeps
 * an HS256 secret in MILLRACE_DATA_DIR/auth-secret (made once, mode 0600) unless one is configured,
 * and mints a development token with every scope: printed, sent by GraphiQL, and written to
 * runtime.json for the CLI. With DATABASE_URL, a key source is required unless MILLRACE_AUTH=off.
 */
export async function securityFromConfig(
  c: Config,
  log: (line: string) => void,
  metricsRegistry?: Registry,
): Promise<{ security: SecurityOptions; devToken?: string; authOff: boolean }> {
  const embedded = !c.DATABASE_URL;
  const off = c.MILLRACE_AUTH === 'off';
  const dataDir = path.resolve(c.MILLRACE_DATA_DIR);
  let secret = c.MILLRACE_JWT_SECRET;
  if (embedded && !secret && !off) secret = await devSecret(dataDir);
  const apiKeys = parseApiKeys(c.MILLRACE_API_KEYS);
  if (!off && !secret && !c.MILLRACE_JWKS_URL && apiKeys.length === 0) {
    throw new Error(
      'no key source: set MILLRACE_JWT_SECRET, MILLRACE_JWKS_URL or MILLRACE_API_KEYS (or MILLRACE_AUTH=off to serve everyone everything)',
    );
  }
  if (off)
    log(
      'WARNING: MILLRACE_AUTH=off — authentication is OFF: anyone who reaches the gateway reads everything, personal data included',
    );
  const authenticator = createAuthenticator(
    {
      off,
      secret,
      jwksUrl: c.MILLRACE_JWKS_URL,
      issuer: c.MILLRACE_JWT_ISSUER,
      audience: c.MILLRACE_JWT_AUDIENCE,
      apiKeys,
    },
    (line) => log(`gateway: ${line}`),
  );
  const devToken =
    embedded && secret && !off
      ? signDevToken({ secret, issuer: c.MILLRACE_JWT_ISSUER, audience: c.MILLRACE_JWT_AUDIENCE, scopes: ALL_SCOPES })
      : undefined;
  const auto = (v: 'auto' | 'on' | 'off') => (v === 'auto' ? embedded : v === 'on');
  const persisted = c.MILLRACE_PERSISTED_OPERATIONS
    ? (JSON.parse(await readFile(c.MILLRACE_PERSISTED_OPERATIONS, 'utf8')) as Record<string, string>)
    : undefined;
  return {
    authOff: off,
    devToken,
    security: {
      authenticator,
      allowedOrigins:
        c.MILLRACE_CORS_ORIGINS?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) ?? [],
      limits: {
        maxDepth: c.MILLRACE_MAX_DEPTH,
        maxAliases: c.MILLRACE_MAX_ALIASES,
        maxDirectives: c.MILLRACE_MAX_DIRECTIVES,
        maxTokens: c.MILLRACE_MAX_TOKENS,
      },
      cost: { maxCost: c.MILLRACE_MAX_COST },
      rateLimit: { perMinute: c.MILLRACE_RATE_PER_MINUTE, burst: c.MILLRACE_RATE_BURST },
      requestSize: { maxBodyBytes: c.MILLRACE_MAX_BODY_BYTES, maxVariablesBytes: c.MILLRACE_MAX_VARIABLES_BYTES },
      deadlineMs: c.MILLRACE_DEADLINE_MS,
      introspection: auto(c.MILLRACE_INTROSPECTION),
      graphiql: auto(c.MILLRACE_GRAPHIQL),
      graphiqlHeaders: devToken ? { authorization: `Bearer ${devToken}` } : undefined,
      persistedOperations: persisted,
      persistedOnly: c.MILLRACE_PERSISTED_ONLY,
      metricsRegistry,
    },
  };
}

async function devSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'auth-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(dataDir, { recursive: true });
    const secret = randomSecret();
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}
