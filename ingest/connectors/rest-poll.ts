import { z } from 'zod';
import { MillraceError } from '../../lib/errors.ts';
import { readState, saveState, type DeadLetter } from '../checkpoints.ts';
import { createPollingConnector } from '../polling-connector.ts';
import { defineConnector } from '../define-connector.ts';
import { unpublishable, type Envelope } from '../envelope.ts';
import { createRestClient, describeRestError, type RestClient } from './rest-client.ts';
import { movementPage, toolMovementEnvelope } from './tool-movement.ts';
import { mapRecord, recordMappingSchema, type RecordMapping } from '../record-mapping.ts';

/** Saved in `connector_state`: the seq of the last movement published (0 = from the start). */
interface RestPollState {
  after: number;
}

const restPollConfig = z.object({
  /** API base URL, e.g. `http://127.0.0.1:41234` (a trailing slash is ignored). */
  baseUrl: z.url().describe('API base URL'),
  /** Movement resource path. Default `/api/tool-movements`. */
  path: z
    .string()
    .regex(/^\/[^?#]*$/)
    .default('/api/tool-movements')
    .describe('movement resource path'),
  /** Pause between polls once caught up, ms. Default 1 000 (the simulator); 1 800 000 (30 min) for a real crib API. */
  pollMs: z.number().int().positive().default(1_000).describe('pause between polls when caught up, ms'),
  /** Movements per request (`limit`). Default 200. */
  pageSize: z.number().int().min(1).max(1_000).default(200).describe('movements per request'),
  /** Per-request timeout, ms. Default 3 000. */
  timeoutMs: z.number().int().positive().default(3_000).describe('per-request timeout, ms'),
  /** Retries of a failed request before the poll gives up until the next one. Default 4. */
  retries: z.number().int().min(0).max(20).default(4).describe('retries per request'),
  /** First retry back-off, ms (doubles, full jitter). Default 200. */
  backoffMs: z.number().int().positive().default(200).describe('first retry back-off, ms'),
  /** Longest retry back-off, ms. Default 5 000. */
  maxBackoffMs: z.number().int().positive().default(5_000).describe('longest retry back-off, ms'),
  /** Consecutive failed requests that open the circuit. Default 5. */
  circuitThreshold: z.number().int().positive().default(5).describe('failures that open the circuit'),
  /** How long the open circuit rejects before a trial request, ms. Default 10 000. */
  circuitHalfOpenMs: z.number().int().positive().default(10_000).describe('open circuit → half-open after, ms'),
  /**
   * How an item becomes an event: unset = the MyCPU tool movements (`tool.out` / `tool.in`); a
   * mapping (ingest/record-mapping.ts) reads any seq-paginated resource's items. Default unset.
   */
  map: recordMappingSchema.optional().describe('item → event mapping (default: tool movements)'),
});
export type RestPollConfig = z.infer<typeof restPollConfig>;

const sourceOf = (c: RestPollConfig) => `rest:${c.baseUrl.replace(/\/+$/, '')}${c.path}`;

/** An item of a mapped resource → an event; the id is the resource path and the API's own seq (stable on re-read). */
function mappedItemEnvelope(map: RecordMapping, item: unknown, c: RestPollConfig): Envelope | string {
  if (typeof item !== 'object' || item === null) return 'item is not an object';
  const m = mapRecord(map, item as Record<string, unknown>);
  if (typeof m === 'string') return m;
  const seq = (item as { seq?: unknown }).seq;
  return {
    id: `rest:${c.path}:${String(seq)}`,
    source: sourceOf(c),
    type: m.type,
    key: m.key,
    eventTime: m.eventTime,
    payload: { ...m.payload, seq },
  };
}

/** The kind's item → event codec: the configured mapping, else the tool movements'. */
const itemEnvelope = (c: RestPollConfig, item: unknown): Envelope | string =>
  c.map ? mappedItemEnvelope(c.map, item, c) : toolMovementEnvelope(item, sourceOf(c));

/**
 * A seq-paginated REST resource → the log (docs/sources.md row 8). Each pass asks for the
 * movements after the saved seq and follows `next` to the end; a page's envelopes are published,
 * and only once the log acknowledged them is the cursor saved (with the page's dead letters). A
 * re-asked unchanged end page costs a 304 (If-None-Match). Failures are retried inside the pass
 * (`rest-client.ts`); a pass that still fails leaves the cursor where it was and polls again later,
 * so an API outage loses nothing and, running in its own loop, stops no other connector.
 */
export const restPoll = defineConnector({
  kind: 'rest-poll',
  config: restPollConfig,
  reparse(config, raw) {
    let item: unknown;
    try {
      item = JSON.parse(raw);
    } catch {
      return 'not JSON';
    }
    return itemEnvelope(config, item);
  },
  create(config, ctx) {
    const base = config.baseUrl.replace(/\/+$/, '');
    const source = sourceOf(config);
    let cursor: number | null = null; // the saved position, once read
    let sourceEnd: number | null = null;
    let etag: { url: string; tag: string } | null = null;
    let abort = new AbortController();
    let client: RestClient | null = null;

    async function savedCursor(): Promise<number> {
      if (cursor === null) cursor = (await readState<RestPollState>(ctx.pool, ctx.schema, ctx.name))?.after ?? 0;
      return cursor;
    }

    /** One page; resolves `true` when there is more to read right away. */
    async function pass(): Promise<boolean> {
      const after = await savedCursor();
      const url = `${base}${config.path}?after=${after}&limit=${config.pageSize}`;
      const res = await client!.get(url, etag?.url === url ? etag.tag : null);
      if (res.status === 304) return false;
      const parsed = movementPage.safeParse(res.body);
      if (!parsed.success)
        throw new MillraceError(
          'SOURCE_PROTOCOL',
          `GET ${url}: unexpected page shape: ${parsed.error.issues[0]?.message}`,
        );
      const page = parsed.data;
      sourceEnd = page.latestSeq;
      if (page.latestSeq < after) {
        throw new MillraceError(
          'POSITION_LOST',
          `${source}: the API's latest seq ${page.latestSeq} is below the saved cursor ${after} (its history was reset); clear connector state '${ctx.name}' to read it again`,
        );
      }
      const out: Array<{ key: string; value: string }> = [];
      const dead: DeadLetter[] = [];
      let last = after;
      for (const item of page.items) {
        if (item.seq <= last)
          throw new MillraceError('SOURCE_PROTOCOL', `GET ${url}: seq ${item.seq} after ${last} is not increasing`);
        last = item.seq;
        const env = itemEnvelope(config, item);
        const value = typeof env === 'string' ? null : JSON.stringify(env);
        const reason = typeof env === 'string' ? env : unpublishable(value!);
        if (reason !== null) dead.push({ position: `${config.path}#${item.seq}`, raw: JSON.stringify(item), reason });
        else out.push({ key: (env as Envelope).key, value: value! });
      }
      if (out.length > 0) await ctx.log.publish(out);
      if (last > after) {
        await saveState(ctx.pool, ctx.schema, {
          connector: ctx.name,
          source,
          state: { after: last } satisfies RestPollState,
          events: out.length,
          deadLetters: dead,
        });
        cursor = last;
      }
      // Remembered only once the page is done: a 304 must never skip a page that was not saved.
      etag = res.etag ? { url, tag: res.etag } : null;
      return page.next !== null;
    }

    return createPollingConnector({
      kind: 'rest-poll',
      ctx,
      pollMs: config.pollMs,
      tick: pass,
      open() {
        abort = new AbortController();
        client = createRestClient({ ...config, signal: abort.signal });
      },
      interrupt: () => abort.abort(),
      describeError(err, previous) {
        const text = describeRestError(err);
        // An open circuit fails every poll at once: report it when it opens, not every poll.
        return { text, report: !(text === 'circuit open' && previous === text) };
      },
      async position() {
        const pos = await savedCursor();
        const end = Math.max(pos, sourceEnd ?? pos);
        return { lag: end - pos, positions: [pos], sourceEnd: [end] };
      },
    });
  },
});
