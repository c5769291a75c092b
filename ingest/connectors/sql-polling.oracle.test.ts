import { describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { connectorContract } from '../connector.contract.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { createOracleEngine } from '../../simulator/sources/sql-engine.ts';
import { sqlPolling } from './sql-polling.ts';

// The `oracle` dialect of sql-polling, against a real Oracle only: Oracle cannot run on this
// project's machines, so without ORACLE_URL the suite is skipped with this reason.
const url = process.env.ORACLE_URL;

if (!url) {
  describe('sql-polling (oracle)', () =>
    it.skip('ORACLE_URL not set: no Oracle here, the oracle dialect did not run', () => undefined));
} else {
  let n = 0;
  connectorContract({
    name: 'sql-polling (oracle, work-order)',
    definition: sqlPolling as unknown as ConnectorDefinition<z.ZodType>,
    async setup() {
      const sfx = randomBytes(3).toString('hex');
      const engine = createOracleEngine(url, { tables: { archive: `op_archive_${sfx}`, workOrders: `op_wo_${sfx}` } });
      await engine.ensure();
      // Stamped a minute in the past, so the lag window never holds them back.
      const wo = (id: string, qty: number) => ({
        woId: id,
        sku: 'MYCPU-C9-4200',
        plannedQty: qty,
        dueDate: '2026-12-31',
        updatedAt: Date.now() - 60_000 + n,
      });
      return {
        config: {
          dialect: 'oracle',
          url,
          table: engine.tables.workOrders,
          columns: ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'],
          watermarkColumn: 'updated_at',
          keyColumn: 'wo_id',
          mapping: 'work-order',
          lagWindowMs: 200,
          pollMs: 100,
          batch: 3,
        },
        source: {
          async append(k: number) {
            const rows = Array.from({ length: k }, () => wo(`OW${n++}`, 100));
            await engine.upsertWorkOrders(rows);
            return rows.map((r) => `sql:work_order:${r.woId}:${r.updatedAt}`);
          },
          async appendMalformed() {
            const id = `OWBAD${n++}`;
            await engine.upsertWorkOrders([wo(id, -1)]);
            return `${engine.tables.workOrders}:${id}`;
          },
          async cleanup() {
            await engine.dropTables();
            await engine.close();
          },
        },
      };
    },
  });
}
