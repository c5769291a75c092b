import type pg from 'pg';
import type { z } from 'zod';
import { ident } from '../lib/ident.ts';
import type { Topic } from '../log/topic.ts';
import type { ConnectorDefinition } from './define-connector.ts';
import { MillraceError } from '../lib/errors.ts';

export interface ReplayResult {
  examined: number;
  replayed: number;
  stillRejected: number;
}

/**
 * Replay a connector's dead letters after a fix: each raw input is parsed again with the current
 * code; what now parses is published to the log (its deterministic id makes a replay of an
 * already-replayed letter harmless) and marked `replayed_at`; the rest keep their new reason.
 */
export async function replayDeadLetters(opts: {
  pool: pg.Pool;
  schema: string;
  log: Topic;
  connector: string;
  definition: ConnectorDefinition<z.ZodType>;
  config: unknown;
  limit?: number;
}): Promise<ReplayResult> {
  const s = ident(opts.schema);
  const reparse = opts.definition.reparse;
  if (!reparse)
    throw new MillraceError('NOT_REPLAYABLE', `connector kind ${opts.definition.kind} cannot replay dead letters`);
  const config = opts.definition.config.parse(opts.config);
  const r = await opts.pool.query(
    `SELECT id, position, raw FROM ${s}.dead_letters WHERE connector = $1 AND replayed_at IS NULL ORDER BY id LIMIT $2`,
    [opts.connector, opts.limit ?? 10_000],
  );
  const ok: Array<{ id: number; key: string; value: string }> = [];
  const still: Array<{ id: number; reason: string }> = [];
  for (const row of r.rows) {
    const env = reparse(config, row.raw, row.position);
    if (typeof env === 'string') still.push({ id: row.id, reason: env });
    else ok.push({ id: row.id, key: env.key, value: JSON.stringify(env) });
  }
  // Publish first, then mark: a crash in between replays again, with the same ids.
  if (ok.length > 0) await opts.log.publish(ok.map(({ key, value }) => ({ key, value })));
  await opts.pool.query(`UPDATE ${s}.dead_letters SET replayed_at = now() WHERE id = ANY($1::bigint[])`, [
    ok.map((o) => o.id),
  ]);
  for (const x of still)
    await opts.pool.query(`UPDATE ${s}.dead_letters SET reason = $2 WHERE id = $1`, [x.id, x.reason]);
  return { examined: r.rows.length, replayed: ok.length, stillRejected: still.length };
}
