import type pg from 'pg';
import { MillraceError } from '../../lib/errors.ts';

/** LSN text `X/Y` (hex) → X·2³² + Y; exact as a JS number for any WAL a server can hold (< 2⁵³ bytes). */
export function lsnToNumber(lsn: string): number {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn);
  if (!m) throw new MillraceError('CDC_BAD_LSN', `not an LSN: ${JSON.stringify(lsn)}`);
  return parseInt(m[1], 16) * 2 ** 32 + parseInt(m[2], 16);
}

/** The canonical text Postgres prints (`16/B374D848`): upper-case hex, no padding. */
export function formatLsn(n: number): string {
  return `${Math.floor(n / 2 ** 32)
    .toString(16)
    .toUpperCase()}/${(n % 2 ** 32).toString(16).toUpperCase()}`;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const qualified = (t: TableRef) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;

export interface TableRef {
  schema: string;
  name: string;
  /** `schema.name`, as ids and sources name it. */ full: string;
  pk: string[];
}

/** How to get going again after the slot's changes were lost; part of every CDC_SLOT_LOST message. */
export const SLOT_LOST_RECOVERY =
  'Changes after the last checkpoint can no longer be read. To recover: stop the connector; fill the gap at the source if it matters ' +
  '(e.g. re-run the writer back-fill for the affected range, or re-snapshot the table into the log); delete the saved position ' +
  "(DELETE FROM <millrace schema>.connector_state WHERE connector = '<name>'); start again (a fresh slot is created and read from now on). " +
  'To avoid it: set max_slot_wal_keep_size (bounded, so a stuck slot cannot fill the disk) large enough to cover the longest outage, and alert on pg_replication_slots.wal_status.';

export function slotLost(slot: string, detail: string, cause?: unknown): MillraceError {
  return new MillraceError('CDC_SLOT_LOST', `replication slot "${slot}" ${detail}. ${SLOT_LOST_RECOVERY}`, { cause });
}

/** pg errors of START_REPLICATION → what they mean for us. */
export function streamError(slot: string, err: unknown): MillraceError {
  const code = (err as { code?: string }).code;
  if (code === '42704') return slotLost(slot, 'does not exist (dropped while the connector was starting)', err);
  if (code === '55000' && /can no longer get changes/.test(String((err as Error).message)))
    return slotLost(slot, 'was invalidated', err);
  if (code === '55006')
    return new MillraceError('CDC_SLOT_BUSY', `replication slot "${slot}" is in use by another process`, {
      retryable: true,
      cause: err,
    });
  return new MillraceError('CDC_STREAM', `replication stream: ${(err as Error).message}`, {
    retryable: true,
    cause: err,
  });
}

/**
 * Everything that must hold before streaming, checked with clear errors: wal_level = logical
 * (CDC_WAL_LEVEL), each table present (CDC_TABLE_MISSING, retryable: the writer may create it
 * later) with a primary key and REPLICA IDENTITY FULL (CDC_CONFIG: without before images an update
 * cannot say which status it left), the publication (created or extended), and the slot (created
 * when this connector never checkpointed; missing after a checkpoint or invalidated → CDC_SLOT_LOST).
 * Returns the tables with their primary keys and a warning when the slot's WAL is unbounded.
 */
export async function prepareCdc(
  pool: pg.Pool,
  c: {
    slot: string;
    publication: string;
    tables: string[];
    maxSlotWalKeepSize?: number;
    checkpointedLsn: string | null;
  },
): Promise<{ tables: TableRef[]; warning: string | null }> {
  const wal = (await pool.query(`SHOW wal_level`)).rows[0].wal_level;
  if (wal !== 'logical') {
    throw new MillraceError(
      'CDC_WAL_LEVEL',
      `wal_level is '${wal}', logical replication needs 'logical': ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL`,
    );
  }
  const keep = Number(
    (await pool.query(`SELECT setting FROM pg_settings WHERE name = 'max_slot_wal_keep_size'`)).rows[0]?.setting ?? -1,
  );
  let warning: string | null = null;
  if (keep < 0)
    warning = `max_slot_wal_keep_size is unlimited (-1): a stopped connector's slot "${c.slot}" keeps all WAL until the disk fills; set a bound (MB) that covers your longest outage`;
  else if (c.maxSlotWalKeepSize !== undefined && keep > c.maxSlotWalKeepSize)
    warning = `max_slot_wal_keep_size is ${keep} MB, above the ${c.maxSlotWalKeepSize} MB this connector was configured to accept`;

  const tables: TableRef[] = [];
  for (const full of c.tables) {
    const [schema, name] = full.includes('.') ? full.split('.', 2) : ['public', full];
    const r = await pool.query(
      `SELECT c.relreplident, array(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)) AS pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, name],
    );
    if (r.rowCount === 0)
      throw new MillraceError('CDC_TABLE_MISSING', `table ${schema}.${name} does not exist (yet)`, { retryable: true });
    const { relreplident, pk } = r.rows[0] as { relreplident: string; pk: string[] };
    if (pk.length === 0)
      throw new MillraceError('CDC_CONFIG', `table ${schema}.${name} has no primary key (ids are LSN + primary key)`);
    if (relreplident !== 'f')
      throw new MillraceError(
        'CDC_CONFIG',
        `table ${schema}.${name} needs before images: ALTER TABLE ${schema}.${name} REPLICA IDENTITY FULL`,
      );
    tables.push({ schema, name, full: `${schema}.${name}`, pk });
  }

  const pub = await pool.query(`SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`, [
    c.publication,
  ]);
  const exists = (await pool.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [c.publication])).rowCount! > 0;
  if (!exists)
    await pool.query(`CREATE PUBLICATION ${quoteIdent(c.publication)} FOR TABLE ${tables.map(qualified).join(', ')}`);
  else {
    const have = new Set(pub.rows.map((x) => `${x.schemaname}.${x.tablename}`));
    const missing = tables.filter((t) => !have.has(t.full));
    if (missing.length > 0)
      await pool.query(`ALTER PUBLICATION ${quoteIdent(c.publication)} ADD TABLE ${missing.map(qualified).join(', ')}`);
  }

  // Slot names are unique across the Postgres cluster: another database's slot of this name is
  // another deployment's (MILLRACE_PREFIX names it), never ours to read or to replace.
  const foreign = await pool.query(
    `SELECT database, active_pid FROM pg_replication_slots WHERE slot_name = $1 AND database IS DISTINCT FROM current_database()`,
    [c.slot],
  );
  if (foreign.rowCount) {
    const f = foreign.rows[0];
    throw new MillraceError(
      'RESOURCE_CLASH',
      `replication slot "${c.slot}" belongs to database ${f.database} (another deployment${f.active_pid ? `, in use by pid ${f.active_pid}` : ''}); ` +
        'slot names are shared by every database of the server: give this deployment its own MILLRACE_PREFIX (or CDC_SLOT)',
    );
  }
  const slot = await pool.query(
    `SELECT plugin, wal_status FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()`,
    [c.slot],
  );
  if (slot.rowCount === 0) {
    if (c.checkpointedLsn !== null)
      throw slotLost(c.slot, `does not exist, but this connector checkpointed at ${c.checkpointedLsn}: it was dropped`);
    await pool.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [c.slot]);
  } else if (slot.rows[0].plugin !== 'pgoutput') {
    throw new MillraceError(
      'CDC_CONFIG',
      `replication slot "${c.slot}" uses plugin ${slot.rows[0].plugin}, not pgoutput`,
    );
  } else if (slot.rows[0].wal_status === 'lost') {
    throw slotLost(c.slot, 'was invalidated: the WAL it needed was removed (max_slot_wal_keep_size exceeded)');
  }
  return { tables, warning };
}

/** The slot's confirmed position and the server's WAL end, as numbers (null: no such slot). */
export async function slotPositions(pool: pg.Pool, slot: string): Promise<{ confirmed: number | null; end: number }> {
  const r = await pool.query(
    `SELECT (SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1) AS confirmed, pg_current_wal_lsn()::text AS end`,
    [slot],
  );
  return { confirmed: r.rows[0].confirmed ? lsnToNumber(r.rows[0].confirmed) : null, end: lsnToNumber(r.rows[0].end) };
}
