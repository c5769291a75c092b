import type pg from 'pg';
import { ident } from '../lib/ident.ts';
import { inTransaction } from '../lib/pg-tx.ts';
import { MillraceError } from '../lib/errors.ts';

export interface SkipOptions {
  pool: pg.Pool;
  schema: string;
  connector: string;
  /** The connector's source name as its dead letters carry it, e.g. `kafka:mycpu.machining`. */
  source: string;
  /** Prefix of the dead letter's position, e.g. the topic name. */
  positionPrefix: string;
  partition: number;
  /** The first position to read again; must be past the saved checkpoint. */
  to: number;
  /** Who asked and why, kept in the dead letter. */
  note: string;
}

/**
 * `millrace connectors skip`: move a connector whose source position cannot be read (a poisoned
 * batch) past it. The skipped range is recorded as a dead letter, in the same transaction as the
 * new checkpoint, so that what was not read is never silent. The running connector takes the new
 * position on its next retry (it re-reads its checkpoint after every failure and every join).
 */
export async function skipPosition(o: SkipOptions): Promise<{ from: number; to: number; position: string }> {
  const s = ident(o.schema);
  return inTransaction(o.pool, async (client) => {
    const r = await client.query(
      `SELECT next_offset FROM ${s}.connector_checkpoints WHERE connector = $1 AND partition = $2 FOR UPDATE`,
      [o.connector, o.partition],
    );
    const from = r.rowCount ? Number(r.rows[0].next_offset) : 0;
    if (o.to <= from) {
      throw new MillraceError(
        'BAD_POSITION',
        `connector ${o.connector} partition ${o.partition} is already at ${from}; --to ${o.to} would not skip anything`,
      );
    }
    const position = `${o.positionPrefix}:${o.partition}:${from}-${o.to - 1}`;
    await client.query(
      `INSERT INTO ${s}.dead_letters (connector, source, position, raw, reason) VALUES ($1, $2, $3, '', $4) ON CONFLICT (source, position) DO NOTHING`,
      [o.connector, o.source, position, `skipped by an operator (offsets ${from}..${o.to - 1} not read): ${o.note}`],
    );
    await client.query(
      `INSERT INTO ${s}.connector_checkpoints (connector, partition, next_offset, events, dead_letters, updated_at) VALUES ($1, $2, $3, 0, 1, $4)
       ON CONFLICT (connector, partition) DO UPDATE SET next_offset = excluded.next_offset,
         dead_letters = ${s}.connector_checkpoints.dead_letters + 1, updated_at = excluded.updated_at`,
      [o.connector, o.partition, o.to, Date.now()],
    );
    return { from, to: o.to, position };
  });
}

/** What a skip did, as `millrace connectors skip` prints it. */
export interface SkipResult {
  /** The dead letter's position: the range not read. */
  position: string;
  /** What was skipped, e.g. `offsets 0..2`, `lines 5..6 of energy.csv`. */
  skipped: string;
  /** Where the connector reads next. */
  next: string;
}

export interface SkipStateOptions<S> {
  pool: pg.Pool;
  schema: string;
  connector: string;
  source: string;
  /**
   * From the saved state (null: none saved) to the state after the skip, with the dead letter's
   * position and what was skipped; throws (`BAD_POSITION`) when the target is not past the state.
   */
  move(state: S | null): Promise<{ state: S } & SkipResult> | ({ state: S } & SkipResult);
  note: string;
}

/**
 * `connectors skip` for connectors that keep their position as JSON in `connector_state` (a file
 * line, a SQL watermark, an LSN): the new state and the dead letter of what was not read are saved
 * in one transaction. The running connector takes the state on its next retry (a failed pass
 * re-reads its saved state); a connector that is not stuck may save over it.
 */
export async function skipState<S>(o: SkipStateOptions<S>): Promise<SkipResult> {
  const s = ident(o.schema);
  return inTransaction(o.pool, async (client) => {
    const r = await client.query(`SELECT state FROM ${s}.connector_state WHERE connector = $1 FOR UPDATE`, [
      o.connector,
    ]);
    const moved = await o.move(r.rowCount ? (r.rows[0].state as S) : null);
    await client.query(
      `INSERT INTO ${s}.dead_letters (connector, source, position, raw, reason) VALUES ($1, $2, $3, '', $4) ON CONFLICT (source, position) DO NOTHING`,
      [o.connector, o.source, moved.position, `skipped by an operator (${moved.skipped} not read): ${o.note}`],
    );
    await client.query(
      `INSERT INTO ${s}.connector_state (connector, state, events, dead_letters, updated_at) VALUES ($1, $2, 0, 1, $3)
       ON CONFLICT (connector) DO UPDATE SET state = excluded.state,
         dead_letters = ${s}.connector_state.dead_letters + 1, updated_at = excluded.updated_at`,
      [o.connector, JSON.stringify(moved.state), Date.now()],
    );
    return { position: moved.position, skipped: moved.skipped, next: moved.next };
  });
}
