import { createHash } from 'node:crypto';
import {
  getNamedType,
  getOperationAST,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { Counter, type Registry } from 'prom-client';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { createInMemoryCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { PRINCIPAL } from './use-authentication.ts';
import type { ExecuteHookPayload } from './execute-hook.ts';
import type { Principal } from './create-authenticator.ts';
import { createSharedReads } from '../lib/share-reads.ts';

/**
 * Answers that depend on the clock or on data the version does not cover, by schema coordinate
 * (`Type.field`, or `Type` for all its fields): an operation selecting one is never cached.
 * `Station.wip` defaults to now; tools' life is summed up to the request's minute; alerts are
 * evaluated on a timer; dead letters are written by connectors, outside the loader's offsets.
 */
export const UNCACHEABLE_COORDINATES = [
  'Query.alerts',
  'Query.deadLetters',
  'Station.wip',
  'Query.tools',
  'Query.tool',
  'Tool',
] as const;

/** Options of `useResponseCache`. */
export interface ResponseCacheOptions {
  /**
   * The version of the data every cacheable answer is computed from (`Serving.dataVersion`):
   * equal strings at two moments mean no answer changed in between. Read on every query (concurrent
   * queries share a read that started after they arrived).
   */
  dataVersion: () => Promise<string>;
  /** Most answers kept (least recently used leave first). Default 1000. */
  maxEntries?: number;
  /** Age after which an answer is dropped anyway, ms: a backstop, never what keeps answers exact. Default 300 000. */
  ttlMs?: number;
  /** Coordinates never cached. Default UNCACHEABLE_COORDINATES. */
  uncacheable?: readonly string[];
  /** Registry for `millrace_response_cache_{hits,misses}_total`. Default none (no metrics). */
  registry?: Registry;
}

/**
 * A response cache whose entries are valid exactly as long as the data they were computed from.
 *
 * Why it is exact: every query first reads the data version V (the batch watermark and its
 * refresh time, the loader offsets and the speed offsets per partition, from Postgres and the speed
 * store), and looks up (V, caller's scopes, document, operation, variables). Each part of V moves
 * in the same transaction or atomic step as the data it covers and only grows, so V read at t1
 * and again at t2 means the data did not move in [t1, t2]. On a miss the operation runs and its
 * answer is kept only if V read after it is still V: the answer is then the data at V. A later
 * hit reads V again on arrival, so the subgraphs would answer the same now. Nothing is kept for
 * a version other than the last one read, so memory holds one version's answers. The TTL is a
 * backstop only; there is no invalidation message that could arrive late.
 *
 * What is never cached: subscriptions (they do not pass here) and mutations, answers with any
 * error, incremental (@defer/@stream) answers and operations selecting an uncacheable
 * coordinate. The key holds the caller's scopes (answers depend on the principal only through
 * them; a field behind `pii:read` is answered or refused per scope set), so a caller never gets
 * an answer made for other scopes. A hit returns the answer as assembled, `freshness.asOf`
 * included: the data has not moved since.
 *
 * It runs where ARCHITECTURE.md's front door puts it: after authentication, limits and scope
 * checks (a hit costs one version read and no planning or subgraph call). The LRU store is the
 * one of `@graphql-yoga/plugin-response-cache`; that plugin itself is not used because it answers
 * hits in `onParams`, before authentication and limits, and answers `If-None-Match` with 304
 * from the key alone, without reading the version.
 */
export function useResponseCache(opts: ResponseCacheOptions): GatewayPlugin {
  const max = opts.maxEntries ?? 1000;
  const ttl = opts.ttlMs ?? 300_000;
  const uncacheable = new Set(opts.uncacheable ?? UNCACHEABLE_COORDINATES);
  const registers = opts.registry ? [opts.registry] : [];
  const hits = new Counter({
    name: 'millrace_response_cache_hits_total',
    help: 'Queries answered from the gateway response cache.',
    registers,
  });
  const misses = new Counter({
    name: 'millrace_response_cache_misses_total',
    help: 'Cacheable queries the gateway response cache did not hold (executed).',
    registers,
  });
  let current: { version: string; cache: Cache } | null = null;
  /** The store of version `v`; a new version drops the previous one's answers (they cannot hit again). */
  const storeOf = (v: string) => {
    if (current?.version !== v) current = { version: v, cache: createInMemoryCache({ max }) };
    return current.cache;
  };
  const cacheable = memoCacheable(uncacheable);
  const dataVersion = coalesceReads(opts.dataVersion);
  const documentText = new WeakMap<DocumentNode, string>();

  return {
    async onExecute({ args, setResultAndStopExecution }: ExecuteHookPayload) {
      // The request's own text when it has one (the document object is new per request once the
      // scope checks have rewritten it; what they removed depends only on the scopes, in the key).
      const query = (args.contextValue.params as { query?: unknown } | undefined)?.query;
      let text = typeof query === 'string' ? query : documentText.get(args.document);
      if (text === undefined) documentText.set(args.document, (text = print(args.document)));
      const op = args.operationName ?? null;
      const principal = args.contextValue[PRINCIPAL] as Principal | undefined;
      const scopes = [...(principal?.scopes ?? [])].sort().join(' ');
      // Per scopes too: the document checked is the one the scope checks left.
      if (!cacheable(args.schema, args.document, op, `${scopes}\n${op ?? ''}\n${text}`)) return;
      // Short keys as they are (a hash costs more than the lookup); long ones by their SHA-256, so a
      // kept answer does not keep a 64 KiB document alive as its key. A raw key starts with '[', a
      // hash never does: the two cannot meet.
      const raw = JSON.stringify([scopes, text, op, stableJson(args.variableValues ?? {})]);
      const key = raw.length <= 1024 ? raw : createHash('sha256').update(raw).digest('base64url');
      // A version that cannot be read (a store down) means no cache for this query, not a failure:
      // it runs as without the cache, and its subgraphs report what is down with their own codes.
      const version = await dataVersion().catch(() => null);
      if (version === null) return;
      const cached = await storeOf(version).get(key);
      if (cached) {
        hits.inc();
        return setResultAndStopExecution({ ...cached });
      }
      misses.inc();
      return {
        async onExecuteDone({ result }: { result: unknown }) {
          const r = result as ExecutionResult;
          if (!r || typeof r !== 'object' || Symbol.asyncIterator in r) return;
          if (r.errors?.length || !r.data) return;
          // Kept only if the data did not move while it ran: then it is exactly the answer at `version`.
          if ((await dataVersion().catch(() => null)) !== version) return;
          if (current?.version === version) await current.cache.set(key, r, [], ttl);
        },
      };
    },
  } as unknown as GatewayPlugin;
}

/**
 * Shares version reads between concurrent requests without ever giving a request a read that
 * started before it asked (lib/share-reads.ts): at most one read runs; callers arriving meanwhile
 * wait for the next one, started when it ends, which serves them all. Under load the stores see
 * about one read per round trip instead of one per request; each caller still sees the data as of
 * after its call.
 */
export function coalesceReads<T>(read: () => Promise<T>): () => Promise<T> {
  const shared = createSharedReads<null, T>(() => read());
  return () => shared.read('version', null, undefined);
}

/**
 * Whether an operation is a query selecting no uncacheable coordinate, computed once per schema and
 * operation text (`key`); at most 1000 texts are remembered.
 */
function memoCacheable(uncacheable: Set<string>) {
  let memo = { schema: null as GraphQLSchema | null, known: new Map<string, boolean>() };
  return (schema: GraphQLSchema, document: DocumentNode, operationName: string | null, key: string): boolean => {
    if (memo.schema !== schema || memo.known.size >= 1000) memo = { schema, known: new Map() };
    const known = memo.known.get(key);
    if (known !== undefined) return known;
    const typeInfo = new TypeInfo(schema);
    // Mutations never; subscriptions do not come through onExecute.
    let ok = getOperationAST(document, operationName)?.operation === 'query';
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const parent = typeInfo.getParentType()?.name;
          if (parent && (uncacheable.has(parent) || uncacheable.has(`${parent}.${node.name.value}`))) ok = false;
          // A field returning an uncacheable type counts too (`Type` entries).
          const type = typeInfo.getType();
          if (type && uncacheable.has(getNamedType(type).name)) ok = false;
        },
      }),
    );
    memo.known.set(key, ok);
    return ok;
  };
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are one variables value. */
function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}
