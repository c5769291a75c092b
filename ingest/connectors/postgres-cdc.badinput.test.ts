import type { z } from 'zod';
import { badInputSuite } from '../bad-input.testkit.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { postgresCdc } from './postgres-cdc.ts';
import { createCdcFixture, expectedId, type CdcFixture } from './postgres-cdc.testkit.ts';

// postgres-cdc (orders) against real logical replication: bad rows are committed between good ones
// by an application that does not share the connector's idea of an order. Their positions are the
// LSNs an independent observer slot saw.
const T0 = Date.UTC(2026, 0, 5, 8) / 1000;

badInputSuite({
  name: 'postgres-cdc (orders)',
  definition: postgresCdc as unknown as ConnectorDefinition<z.ZodType>,
  timeoutMs: 60_000,
  async setup() {
    const f: CdcFixture = await createCdcFixture();
    let n = 0;
    /** Insert one order (columns overridden by `over`); returns the change the observer saw for it. */
    const insert = async (over: Record<string, unknown> = {}) => {
      n++;
      const id = `RO-bad-${String(n).padStart(3, '0')}`;
      const row: Record<string, unknown> = {
        order_id: id,
        kind: 'repair',
        subject: 'DIE-1',
        severity: 2,
        status: 'requested',
        requested_at: new Date((T0 + n * 60) * 1000),
        updated_at: new Date((T0 + n * 60) * 1000),
        note: null,
        ...over,
      };
      const cols = Object.keys(row);
      await f.pool.query(
        `INSERT INTO ${f.table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        cols.map((c) => row[c]),
      );
      const seen = (await f.observe()).find((c) => c.orderId === row.order_id);
      if (!seen) throw new Error(`the observer did not see ${String(row.order_id)}`);
      return seen;
    };
    const bad = async (over: Record<string, unknown>) => `${f.table}:${(await insert(over)).lsn}`;
    return {
      config: f.config,
      source: {
        async append(k) {
          const ids: string[] = [];
          for (let i = 0; i < k; i++) ids.push(expectedId(f, await insert()));
          return ids;
        },
        bad: [
          { class: 'malformed', what: 'a repair without severity', write: () => bad({ severity: null }) },
          { class: 'malformed', what: 'an empty order id', write: () => bad({ order_id: '' }) },
          {
            class: 'truncated',
            what: 'a purchase cut to its NOT NULL columns with an empty kind',
            write: () => bad({ kind: '', severity: null }),
          },
          {
            class: 'oversized',
            what: 'a 1 MiB note (over the log message limit)',
            write: () => bad({ note: 'n'.repeat(1 << 20) }),
          },
          {
            class: 'wrongly encoded',
            what: 'a note an application decoded from Latin-1 as UTF-8 (U+FFFD stored)',
            write: () => bad({ note: 'Lager M\uFFFDller' }),
          },
          { class: 'schema-drifted', what: 'a kind added by a newer ERP', write: () => bad({ kind: 'maintenance' }) },
        ],
        cleanup: () => f.cleanup(),
      },
    };
  },
});
