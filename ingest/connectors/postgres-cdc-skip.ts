import pg from 'pg';
import { MillraceError } from '../../lib/errors.ts';
import { skipState, type SkipResult } from '../skip-position.ts';
import type { SkipTarget } from '../define-connector.ts';
import { formatLsn, lsnToNumber } from './postgres-cdc-setup.ts';

/**
 * `connectors skip` for postgres-cdc: `--to LSN`, the WAL position to read on from; transactions
 * that committed before it are not read. The position lives in two places that must agree: the
 * replication slot on the source (advanced with `pg_replication_slot_advance`, which needs the slot
 * idle: the connector stopped) and the connector's saved LSN (moved with the range's dead letter).
 */
export async function skipCdc(
  config: { connectionString: string; slot: string; publication: string },
  target: SkipTarget,
  to: string,
  note: string,
): Promise<SkipResult> {
  if (!/^[0-9A-Fa-f]+\/[0-9A-Fa-f]+$/.test(to))
    throw new MillraceError('BAD_POSITION', `--to ${JSON.stringify(to)}: expected an LSN such as 16/B374D848`);
  const want = lsnToNumber(to);
  const source = new pg.Pool({ connectionString: config.connectionString, max: 1 });
  source.on('error', () => undefined);
  try {
    return await skipState<{ slot?: string; lsn: string }>({
      ...target,
      source: `postgres-cdc:${config.publication}`,
      note,
      async move(state) {
        const r = await source.query(
          `SELECT active, confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS end FROM pg_replication_slots WHERE slot_name = $1`,
          [config.slot],
        );
        if (r.rowCount === 0)
          throw new MillraceError('BAD_POSITION', `replication slot "${config.slot}" does not exist on the source`);
        const slot = r.rows[0] as { active: boolean; confirmed: string | null; end: string };
        if (slot.active)
          throw new MillraceError(
            'BAD_POSITION',
            `replication slot "${config.slot}" is in use: stop connector ${target.connector} first (a slot is moved only while idle)`,
          );
        const from = Math.max(state ? lsnToNumber(state.lsn) : 0, slot.confirmed ? lsnToNumber(slot.confirmed) : 0);
        if (want <= from)
          throw new MillraceError(
            'BAD_POSITION',
            `connector ${target.connector} is already at ${formatLsn(from)}; --to ${to} would not skip anything`,
          );
        if (want > lsnToNumber(slot.end))
          throw new MillraceError('BAD_POSITION', `--to ${to} is past the end of the WAL (${slot.end})`);
        await source.query(`SELECT pg_replication_slot_advance($1, $2::pg_lsn)`, [config.slot, formatLsn(want)]);
        return {
          state: { slot: config.slot, lsn: formatLsn(want) },
          position: `${config.slot}:${formatLsn(from)}-${formatLsn(want)}`,
          skipped: `WAL ${formatLsn(from)}..${formatLsn(want)}`,
          next: formatLsn(want),
        };
      },
    });
  } finally {
    await source.end();
  }
}
