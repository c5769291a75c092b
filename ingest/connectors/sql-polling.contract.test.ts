import { connectorContract } from '../connector.contract.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import type { z } from 'zod';
import { sqlPolling } from './sql-polling.ts';
import { sourceDbs, utc, type SourceDb, type TableKind } from './sql-polling.testkit.ts';

// The connector contract, FOR REAL on PostgreSQL and MariaDB, for both mappings (Kysely-style: one
// suite looped over every dialect). Oracle runs only with ORACLE_URL: see sql-polling.oracle.test.ts.
const MAPPINGS: Record<TableKind, { mapping: string; columns: string[]; watermarkColumn: string; keyColumn: string }> =
  {
    archive: {
      mapping: 'machining-archive',
      columns: [
        'event_id',
        'kind',
        'part_id',
        'station',
        'machine',
        'operator',
        'at',
        'next_station',
        'error_code',
        'cycle_time_ms',
        'archived_at',
      ],
      watermarkColumn: 'archived_at',
      keyColumn: 'event_id',
    },
    'work-order': {
      mapping: 'work-order',
      columns: ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'],
      watermarkColumn: 'updated_at',
      keyColumn: 'wo_id',
    },
  };

for (const { dialect, make: makeDb } of sourceDbs) {
  for (const kind of ['archive', 'work-order'] as const) {
    let n = 0;
    connectorContract({
      name: `sql-polling (${dialect}, ${MAPPINGS[kind].mapping})`,
      definition: sqlPolling as unknown as ConnectorDefinition<z.ZodType>,
      async setup() {
        const db: SourceDb = makeDb();
        const table = await db.createTable(kind);
        const at = utc(Date.UTC(2026, 10, 1, 6));
        // Archive rows get `archived_at` from the database clock; work orders are stamped with it.
        const write = async (id: string, bad: boolean): Promise<string> => {
          if (kind === 'archive') {
            await db.insert(table, [
              {
                event_id: id,
                kind: bad ? 'exit' : 'enter',
                part_id: `P-${id}`,
                station: 'DIE',
                machine: 'DIE-1',
                operator: 'E0001',
                at,
                next_station: null,
                error_code: null,
                cycle_time_ms: null,
              },
            ]);
            return `machining:${id}`;
          }
          const t = await db.nowMs();
          await db.insert(table, [
            {
              wo_id: id,
              sku: 'MYCPU-C3-2400',
              planned_qty: bad ? -5 : 120,
              due_date: '2026-12-24',
              updated_at: utc(t),
            },
          ]);
          return `sql:work_order:${id}:${t}`;
        };
        return {
          config: { dialect, url: db.url, table, ...MAPPINGS[kind], lagWindowMs: 200, pollMs: 100, batch: 3 },
          source: {
            async append(k) {
              const ids: string[] = [];
              for (let i = 0; i < k; i++) ids.push(await write(`c${n++}`, false));
              return ids;
            },
            async appendMalformed() {
              const id = `bad${n++}`;
              await write(id, true);
              return `${table}:${id}`;
            },
            cleanup: () => db.cleanup(),
          },
        };
      },
    });
  }
}
