import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { connectorContract } from '../connector.contract.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { postgresCdc } from './postgres-cdc.ts';
import { createCdcFixture, expectedId, insertOrders } from './postgres-cdc.testkit.ts';

// The postgres-cdc connector against the real PostgreSQL (wal_level = logical): its own table,
// publication and slot, and an observer slot that tells which LSN (hence which id) each row got.
connectorContract({
  name: 'postgres-cdc (orders table)',
  definition: postgresCdc as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const f = await createCdcFixture();
    let n = 0;
    const idsOf = async (orderIds: string[]) => {
      const seen = await f.observe();
      return orderIds.map((id) => {
        const c = seen.find((x) => x.orderId === id && x.op === 'INSERT');
        if (!c) throw new Error(`observer never saw the insert of ${id}`);
        return c;
      });
    };
    const tag = randomBytes(2).toString('hex');
    return {
      config: f.config,
      source: {
        async append(k) {
          const ids = Array.from({ length: k }, () => `RO-${tag}-${n++}`);
          await insertOrders(f, ids);
          return (await idsOf(ids)).map((c) => expectedId(f, c));
        },
        async appendMalformed() {
          const id = `XX-${tag}-${n++}`;
          await f.pool.query(
            `INSERT INTO ${f.table} VALUES ($1, 'bogus', 'DIE-1', NULL, 'requested', now(), NULL, NULL, now(), NULL)`,
            [id],
          );
          const [c] = await idsOf([id]);
          return `${f.table}:${c.lsn}`;
        },
        cleanup: () => f.cleanup(),
      },
    };
  },
});
