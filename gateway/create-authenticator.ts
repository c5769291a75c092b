import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import jsonwebtoken, { type JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { MillraceError } from '../lib/errors.ts';

/** Who is asking, once their credential checked out. */
export interface Principal {
  /** `sub` of a token, `api-key:<name>` of an API key, `anonymous` with auth off. */
  subject: string;
  kind: 'jwt' | 'api-key' | 'off';
  scopes: string[];
  /** When the credential stops being valid (ms since epoch); subscriptions end then. */
  expiresAt?: number;
}

/** A machine client's key and what it may read. */
export interface ApiKey {
  name: string;
  key: string;
  scopes: string[];
}

/** Options of `createAuthenticator`. */
export interface AuthenticatorOptions {
  /** HS256 secret (≥ 32 bytes). Default none. */
  secret?: string;
  /** JWKS URL for asymmetric tokens (RS256/ES256/PS256); keys are fetched by `kid` and re-fetched on an unknown one (rotation). Default none. */
  jwksUrl?: string;
  /** Required `iss` of tokens. Default none (not checked). */
  issuer?: string;
  /** Required `aud` of tokens. Default none (not checked). */
  audience?: string;
  /** API keys for machine clients. Default none. */
  apiKeys?: ApiKey[];
  /** Clock skew allowed on `exp`/`nbf`, seconds. Default 5. */
  clockToleranceSec?: number;
  /** `off`: every request is an anonymous principal with every scope (MILLRACE_AUTH=off). Default false. */
  off?: boolean;
}

/** What a request presented: an `Authorization` header value and/or an API key. */
export interface Credentials {
  authorization?: string | null;
  apiKey?: string | null;
}

export interface Authenticator {
  /** The principal behind the credentials; throws MillraceError UNAUTHENTICATED (no detail of why: that goes to `log`). */
  authenticate(creds: Credentials): Promise<Principal>;
  /** Whether any key source is configured (or auth is off). */
  configured: boolean;
  off: boolean;
}

/** Every scope millrace knows; a dev token and auth-off carry them all. */
export const ALL_SCOPES = ['production:read', 'quality:read', 'energy:read', 'workforce:read', 'ops:read', 'pii:read'];

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

/**
 * Checks bearer tokens and API keys, for GraphQL (HTTP, SSE, graphql-ws) and the plain routes
 * (/status, /metrics) alike. Tokens: `jsonwebtoken` with an explicit algorithm list (so `alg:
 * none` and HS/RS key confusion are refused) and `iss`/`aud`/`exp` checked; asymmetric keys come
 * from `jwks-rsa` (cached, re-fetched on an unknown `kid`, rate-limited). Scopes are the `scope`
 * claim (space-separated, OAuth style) or a `scopes` array. API keys compare by SHA-256 digest in
 * constant time. A reason for a refusal goes to `log`; the client only learns it was refused.
 */
export function createAuthenticator(
  opts: AuthenticatorOptions,
  log: (line: string) => void = () => undefined,
): Authenticator {
  const jwks = opts.jwksUrl
    ? new JwksClient({
        jwksUri: opts.jwksUrl,
        cache: true,
        cacheMaxAge: 10 * 60_000,
        rateLimit: true,
        jwksRequestsPerMinute: 10,
        timeout: 5000,
      })
    : null;
  const keys = (opts.apiKeys ?? []).map((k) => ({ ...k, digest: digest(k.key) }));
  const refuse = (why: string): never => {
    log(`authentication refused: ${why}`);
    throw new MillraceError('UNAUTHENTICATED', 'authentication required: send a valid bearer token or API key');
  };

  const verifyJwt = async (token: string): Promise<Principal> => {
    let decoded: jsonwebtoken.Jwt | null;
    try {
      decoded = jsonwebtoken.decode(token, { complete: true });
    } catch {
      decoded = null;
    }
    if (!decoded || typeof decoded.payload === 'string') return refuse('not a JWT');
    const alg = decoded.header.alg;
    let key: string;
    let algorithms: jsonwebtoken.Algorithm[];
    if (alg === 'HS256' && opts.secret) {
      key = opts.secret;
      algorithms = ['HS256'];
    } else if (jwks && (ASYMMETRIC as readonly string[]).includes(alg)) {
      try {
        key = (await jwks.getSigningKey(decoded.header.kid)).getPublicKey();
      } catch (err) {
        return refuse(`no JWKS key for kid ${JSON.stringify(decoded.header.kid ?? null)}: ${(err as Error).message}`);
      }
      algorithms = [...ASYMMETRIC];
    } else {
      return refuse(`algorithm ${JSON.stringify(alg)} is not accepted`);
    }
    let payload: JwtPayload;
    try {
      payload = jsonwebtoken.verify(token, key, {
        algorithms,
        issuer: opts.issuer,
        audience: opts.audience,
        clockTolerance: opts.clockToleranceSec ?? 5,
        complete: false,
      }) as JwtPayload;
    } catch (err) {
      // jsonwebtoken's messages ("jwt expired", "jwt audience invalid…") name no secret.
      return refuse((err as Error).message);
    }
    if (typeof payload.exp !== 'number') return refuse('token has no exp');
    return {
      subject: String(payload.sub ?? 'unknown'),
      kind: 'jwt',
      scopes: scopesOf(payload),
      expiresAt: payload.exp * 1000,
    };
  };

  return {
    configured: !!(opts.off || opts.secret || jwks || keys.length),
    off: !!opts.off,
    async authenticate(creds) {
      if (opts.off) return { subject: 'anonymous', kind: 'off', scopes: [...ALL_SCOPES] };
      if (creds.apiKey) {
        const d = digest(creds.apiKey);
        const hit = keys.find((k) => timingSafeEqual(k.digest, d));
        return hit
          ? { subject: `api-key:${hit.name}`, kind: 'api-key', scopes: [...hit.scopes] }
          : refuse('unknown API key');
      }
      const auth = creds.authorization?.trim();
      if (!auth) return refuse('no credentials');
      const [scheme, token] = auth.split(/\s+/, 2);
      if (scheme.toLowerCase() !== 'bearer' || !token) return refuse('Authorization is not "Bearer <token>"');
      return verifyJwt(token);
    },
  };
}

function scopesOf(payload: JwtPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(/\s+/).filter(Boolean);
  if (Array.isArray(payload.scopes)) return payload.scopes.filter((s): s is string => typeof s === 'string');
  return [];
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Options of `signDevToken`. */
export interface DevTokenOptions {
  secret: string;
  /** Default 'millrace-dev'. */
  subject?: string;
  issuer?: string;
  audience?: string;
  /** Default every scope. */
  scopes?: string[];
  /** Lifetime, seconds. Default 30 days. */
  ttlSec?: number;
}

/** An HS256 token for local use (embedded `npm start`, tests). */
export function signDevToken(opts: DevTokenOptions): string {
  return jsonwebtoken.sign({ scope: (opts.scopes ?? ALL_SCOPES).join(' ') }, opts.secret, {
    algorithm: 'HS256',
    subject: opts.subject ?? 'millrace-dev',
    expiresIn: opts.ttlSec ?? 30 * 86_400,
    ...(opts.issuer && { issuer: opts.issuer }),
    ...(opts.audience && { audience: opts.audience }),
  });
}

/** A fresh random HS256 secret. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}
