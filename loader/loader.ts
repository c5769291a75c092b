import type pg from 'pg';
import { envelopeSchema, type Envelope } from '../ingest/envelope.ts';
import type { Subscription, Topic, TopicBatch } from '../log/topic.ts';
import { ident } from '../lib/ident.ts';
import { MillraceError } from '../lib/errors.ts';
import { inTransaction } from '../lib/pg-tx.ts';
import { applyState, type AcceptedRow } from './state.ts';

export interface LoaderOptions {
  pool: pg.Pool;
  /** Postgres schema of the pipeline's tables. */
  schema: string;
  /** The log. */
  log: Topic;
  /** Consumer group of the loaders. Default 'millrace-loader'. */
  group?: string;
  /** Called after a batch committed (in-process wake-up of the speed applier). */
  onCommitted?: (partition: number) => void;
  /** Max records per transaction. Default 2000. */
  maxBatch?: number;
}

export interface LoaderStats {
  batches: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

/** Notification channel the loader signals on commit (NOTIFY is delivered at COMMIT). */
export const LOADED_CHANNEL = 'millrace_loaded';

/**
 * The one place that accepts events (ARCHITECTURE.md, step 3). Per batch, ONE transaction:
 * compare-and-set of the partition's loader offset (a zombie from a rebalance cannot commit),
 * raw insert with ON CONFLICT (id) DO NOTHING (dedup by deterministic id), NOTIFY.
 */
export function createLoader(opts: LoaderOptions) {
  const s = ident(opts.schema);
  const expected = new Map<number, number>();
  const stats: LoaderStats = { batches: 0, accepted: 0, duplicates: 0, rejected: 0 };
  let sub: Subscription | null = null;

  async function startOffset(p: number): Promise<number> {
    const r = await opts.pool.query(`SELECT next_offset FROM ${s}.loader_offsets WHERE partition = $1`, [p]);
    if (r.rowCount === 0) throw new MillraceError('NOT_MIGRATED', `loader_offsets has no row for partition ${p}`);
    const next = Number(r.rows[0].next_offset);
    expected.set(p, next);
    return next;
  }

  async function onBatch(batch: TopicBatch): Promise<void> {
    const p = batch.partition;
    const prev = expected.get(p) ?? (await startOffset(p));
    const records = batch.records.filter((r) => r.offset >= prev);
    if (records.length === 0) return;
    const next = records[records.length - 1].offset + 1;
    const rows: Array<Envelope & { offset: number }> = [];
    const bad: Array<{ position: string; raw: string; reason: string }> = [];
    for (const r of records) {
      // The log only carries envelopes a connector validated; anything else is a bug upstream.
      // It must neither block the partition nor vanish: dead-letter it with its log position.
      const parsed = r.unreadable ?? parseEnvelope(r.value);
      if (typeof parsed === 'string') bad.push({ position: `${p}:${r.offset}`, raw: r.value, reason: parsed });
      else rows.push({ ...parsed, offset: r.offset });
    }
    let inserted: number;
    try {
      inserted = await inTransaction(opts.pool, async (client) => {
        const cas = await client.query(
          `UPDATE ${s}.loader_offsets SET next_offset = $3, updated_at = $4 WHERE partition = $1 AND next_offset = $2`,
          [p, prev, next, Date.now()],
        );
        if (cas.rowCount !== 1) {
          throw new MillraceError(
            'LOADER_FENCED',
            `partition ${p}: loader offset moved past ${prev} (another loader owns it)`,
            { retryable: true },
          );
        }
        const ins = await client.query(
          `INSERT INTO ${s}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::jsonb[], $7::int[], $8::bigint[])
           ON CONFLICT (id) DO NOTHING
           RETURNING id, type, key, event_time, payload, log_offset`,
          [
            rows.map((r) => r.id),
            rows.map((r) => r.source),
            rows.map((r) => r.type),
            rows.map((r) => r.key),
            rows.map((r) => r.eventTime),
            rows.map((r) => JSON.stringify(r.payload)),
            rows.map(() => p),
            rows.map((r) => r.offset),
          ],
        );
        if (bad.length > 0) {
          await client.query(
            `INSERT INTO ${s}.dead_letters (connector, source, position, raw, reason)
             SELECT 'loader', $1, unnest($2::text[]), unnest($3::text[]), unnest($4::text[]) ON CONFLICT DO NOTHING`,
            [`log:${opts.log.name}`, bad.map((b) => b.position), bad.map((b) => b.raw), bad.map((b) => b.reason)],
          );
          stats.rejected += bad.length;
        }
        // Current state and derived events, from accepted rows only, in log order. A derived event
        // shares its trigger's log position, so batch and speed slice it identically.
        const accepted = (ins.rows as AcceptedRow[]).sort((a, b) => Number(a.log_offset) - Number(b.log_offset));
        const derived = await applyState(client, s, accepted);
        if (derived.length > 0) {
          await client.query(
            `INSERT INTO ${s}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::jsonb[], $7::int[], $8::bigint[])
             ON CONFLICT (id) DO NOTHING`,
            [
              derived.map((r) => r.id),
              derived.map((r) => r.source),
              derived.map((r) => r.type),
              derived.map((r) => r.key),
              derived.map((r) => r.eventTime),
              derived.map((r) => JSON.stringify(r.payload)),
              derived.map(() => p),
              derived.map((r) => r.offset),
            ],
          );
        }
        await client.query(`SELECT pg_notify($1, $2)`, [LOADED_CHANNEL, String(p)]);
        return ins.rowCount ?? 0;
      });
    } catch (err) {
      // Fenced or failed: the next batch re-reads this partition's offset from Postgres.
      expected.delete(p);
      throw err;
    }
    expected.set(p, next);
    stats.batches++;
    stats.accepted += inserted;
    stats.duplicates += rows.length - inserted;
    opts.onCommitted?.(p);
  }

  return {
    stats,
    /** Load one batch (what `start()` does per delivered batch; exposed for fencing tests). */
    load: onBatch,
    async start(): Promise<void> {
      sub = await opts.log.consume({
        group: opts.group ?? 'millrace-loader',
        startOffset,
        onBatch,
        maxBatch: opts.maxBatch ?? 2000,
      });
    },
    async stop(): Promise<void> {
      await sub?.stop();
      sub = null;
    },
  };
}

function parseEnvelope(value: string): Envelope | string {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  const parsed = envelopeSchema.safeParse(json);
  return parsed.success
    ? parsed.data
    : `not an event envelope: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
}

export type Loader = ReturnType<typeof createLoader>;
