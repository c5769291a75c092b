import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { connectorContract } from '../connector.contract.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { csvTail } from './csv-tail.ts';

// The csv-tail connector against real files in a fresh directory, written as the energy writer does.
const T0 = Date.UTC(2026, 0, 1);
const MACHINES = ['DIE-1', 'DIE-2', 'CUR-1'];

connectorContract({
  name: 'csv-tail (energy report)',
  definition: csvTail as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'csv-tail-contract-'));
    const file = 'energy-2026-01-01.csv';
    let lines = 0;
    let n = 0;
    const write = async (text: string[]) => {
      const header = lines === 0 ? ['interval_start,machine_id,wh'] : [];
      await appendFile(join(dir, file), [...header, ...text].map((l) => `${l}\n`).join(''));
      lines += header.length + text.length;
    };
    return {
      config: { directory: dir, pattern: '^energy-.*\\.csv$', schema: 'energy', pollMs: 50 },
      source: {
        async append(k) {
          const ids: string[] = [];
          const rows = Array.from({ length: k }, () => {
            const at = T0 + Math.floor(n / MACHINES.length) * 60_000;
            const machine = MACHINES[n++ % MACHINES.length];
            ids.push(`energy:${machine}:${at}`);
            return `${new Date(at).toISOString()},${machine},${100 + n}`;
          });
          await write(rows);
          return ids;
        },
        async appendMalformed() {
          await write(['2026-01-01T00:00:00.000Z,DIE-1,#VALUE!']);
          return `${file}#${lines}`;
        },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      },
    };
  },
});
