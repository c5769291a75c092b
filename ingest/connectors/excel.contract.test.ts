import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { connectorContract } from '../connector.contract.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { excelSource } from './excel.ts';
import { HEADERS, writeSheet } from './excel.testkit.ts';

// The excel connector against real workbooks in a temp directory: each append is a new day's sheet.
connectorContract({
  name: 'excel (clock-in workbooks)',
  definition: excelSource as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'excel-contract-'));
    let day = 0;
    let emp = 0;
    const nextFile = () => {
      const date = new Date(Date.UTC(2026, 0, 1 + day++)).toISOString().slice(0, 10);
      return { date, file: `clockin-${date}.xlsx` };
    };
    return {
      config: { directory: dir, pollMs: 50 },
      source: {
        async append(n) {
          const { date, file } = nextFile();
          const rows = Array.from({ length: n }, () => {
            const id = `E${String(++emp).padStart(4, '0')}`;
            return [
              date,
              'B',
              'Thermal',
              id,
              `Worker ${emp}`,
              new Date(`${date}T13:55:00Z`),
              new Date(`${date}T22:05:00Z`),
              null,
            ];
          });
          await writeSheet(join(dir, file), HEADERS, rows);
          // Each row's event, and the `worker` entity its name states.
          return rows.flatMap((r) => [`excel:${file}:${date}|${r[3]}|B:1:+`, `excel:${file}:worker:${r[3]}:1`]);
        },
        async appendMalformed() {
          const { date, file } = nextFile();
          await writeSheet(join(dir, file), HEADERS, [[date, 'B', 'Thermal', 'E9999', 'Someone', 'n/a', null, null]]);
          return new RegExp(`^${file.replace(/\./g, '\\.')}#row2@[0-9a-f]{8}$`);
        },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      },
    };
  },
});
