import type pg from 'pg';
import { MillraceError } from '../lib/errors.ts';
import { ident } from '../lib/ident.ts';
import type { GraphqlOptions } from './graphql.ts';

/**
 * Current-state entities (work orders, tools, stations): what the simulator wrote last for each
 * key, as the ledger records it, against what `entities(entity:)` serves. The ledger is read
 * before the pipeline catches up and again after the served state was read; a key whose ledger
 * state changed in between is in flight and is not compared (its change may or may not be served
 * yet). Every other key must be served with exactly the ledger's data, and nothing else may be.
 */
export interface EntityMismatch {
  entity: string;
  key: string;
  /** Ledger data (null: the key does not exist, or was deleted). */
  expected: unknown;
  /** Served data (null: not served, or served as deleted). */
  actual: unknown;
}

/** (entity → key → { source, canonical JSON of the data }). */
export type EntitySnapshot = Map<string, Map<string, { source: string; data: string }>>;

/** JSON with object keys sorted: jsonb and the wire may order keys differently. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Every entity the ledger holds. */
export async function readEntitySnapshot(pool: pg.Pool, schema: string): Promise<EntitySnapshot> {
  const snap: EntitySnapshot = new Map();
  const { rows } = await pool.query<{ source: string; entity: string; key: string; data: unknown }>(
    `SELECT source, entity, key, data FROM ${ident(schema)}.entities WHERE data IS NOT NULL`,
  );
  for (const r of rows) {
    let m = snap.get(r.entity);
    if (!m) snap.set(r.entity, (m = new Map()));
    m.set(r.key, { source: r.source, data: canonicalJson(r.data) });
  }
  return snap;
}

/** Kinds served as `personalData` (pii:read; resolvers/generic.ts PERSONAL_ENTITIES): verify needs pii:read for them. */
const PERSONAL_ENTITIES: ReadonlySet<string> = new Set(['worker']);
const QUERY = (
  field: 'data' | 'personalData',
) => `query VerifyEntities($entity: String!, $limit: Int!, $after: String) {
  entities(entity: $entity, limit: $limit, after: $after) { key data: ${field} deleted }
}`;

/** Every served, not deleted entity of one kind: key → canonical JSON of its data. */
export async function readServedEntities(
  api: GraphqlOptions,
  entity: string,
  pageSize = 500,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let after: string | null = null;
  for (;;) {
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...api.headers },
      body: JSON.stringify({
        query: QUERY(PERSONAL_ENTITIES.has(entity) ? 'personalData' : 'data'),
        variables: { entity, limit: pageSize, after },
      }),
      signal: AbortSignal.timeout(api.timeoutMs ?? 30_000),
    }).catch((err: Error) => {
      throw new MillraceError('VERIFY_QUERY_FAILED', `entities(${entity}): ${err.message}`, { retryable: true });
    });
    const body = (await res.json()) as {
      data?: { entities?: Array<{ key: string; data: string | null; deleted: boolean }> };
      errors?: Array<{ message: string }>;
    };
    const page = body.data?.entities;
    if (body.errors?.length || !page) {
      throw new MillraceError(
        'VERIFY_QUERY_FAILED',
        `entities(${entity}): ${body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}`}`,
      );
    }
    for (const e of page) if (!e.deleted && e.data !== null) out.set(e.key, canonicalJson(JSON.parse(e.data)));
    if (page.length < pageSize) return out;
    after = page[page.length - 1].key;
  }
}

export interface EntityCheckResult {
  /** Keys compared, per ledger source. */
  checked: Record<string, number>;
  /** Keys left out because their ledger state changed while verify ran. */
  inFlight: number;
  mismatches: Array<EntityMismatch & { source: string }>;
}

/** Compare every entity kind the ledger knows (snapshot `before`, then served, then the ledger again). */
export async function runEntityChecks(args: {
  before: EntitySnapshot;
  pool: pg.Pool;
  schema: string;
  api: GraphqlOptions;
  log: (line: string) => void;
}): Promise<EntityCheckResult> {
  const kinds = [...args.before.keys()].sort();
  const served = new Map<string, Map<string, string>>();
  for (const k of kinds) served.set(k, await readServedEntities(args.api, k));
  const after = await readEntitySnapshot(args.pool, args.schema);
  const result: EntityCheckResult = { checked: {}, inFlight: 0, mismatches: [] };
  for (const kind of kinds) {
    const b = args.before.get(kind) ?? new Map();
    const a = after.get(kind) ?? new Map();
    const s = served.get(kind)!;
    for (const key of new Set([...b.keys(), ...a.keys(), ...s.keys()])) {
      const was = b.get(key);
      const now = a.get(key);
      if (was?.data !== now?.data) {
        result.inFlight++;
        continue;
      }
      const source = now?.source ?? was?.source ?? [...b.values()][0]?.source ?? 'unknown';
      result.checked[source] = (result.checked[source] ?? 0) + 1;
      const got = s.get(key);
      if (got !== now?.data) {
        result.mismatches.push({
          source,
          entity: kind,
          key,
          expected: now ? JSON.parse(now.data) : null,
          actual: got === undefined ? null : JSON.parse(got),
        });
      }
    }
    args.log(`verify: entities ${kind}: ${s.size} served, ${b.size} in the ledger`);
  }
  return result;
}
