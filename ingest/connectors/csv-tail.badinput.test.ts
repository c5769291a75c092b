import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { badInputSuite } from '../bad-input.testkit.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { csvTail } from './csv-tail.ts';

// csv-tail against real energy files: bad lines between good ones, and a whole file whose header drifted.
const T0 = Date.UTC(2026, 0, 1);
const MACHINES = ['DIE-1', 'DIE-2', 'CUR-1'];
const HEADER = 'interval_start,machine_id,wh';

badInputSuite({
  name: 'csv-tail (energy report)',
  definition: csvTail as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'csv-tail-bad-'));
    const file = 'energy-2026-01-01.csv';
    let lines = 0;
    let n = 0;
    const write = async (text: Buffer | string) => {
      if (lines === 0) {
        await appendFile(join(dir, file), `${HEADER}\n`);
        lines = 1;
      }
      await appendFile(join(dir, file), text);
      lines++;
      return `${file}#${lines}`;
    };
    const row = () => {
      const at = T0 + Math.floor(n / MACHINES.length) * 60_000;
      const machine = MACHINES[n++ % MACHINES.length];
      return { id: `energy:${machine}:${at}`, line: `${new Date(at).toISOString()},${machine},${100 + n}` };
    };
    return {
      config: { directory: dir, pattern: '^energy-.*\\.csv$', schema: 'energy', pollMs: 50 },
      source: {
        async append(k) {
          const ids: string[] = [];
          for (let i = 0; i < k; i++) {
            const r = row();
            ids.push(r.id);
            await write(`${r.line}\n`);
          }
          return ids;
        },
        bad: [
          {
            class: 'malformed',
            what: 'a spreadsheet error in a number column',
            write: () => write('2026-01-01T00:00:00.000Z,DIE-1,#VALUE!\n'),
          },
          {
            class: 'malformed',
            what: 'an unbalanced quote',
            write: () => write('2026-01-01T00:00:00.000Z,"DIE-1,12\n'),
          },
          {
            class: 'truncated',
            what: 'a line cut after its second field',
            write: () => write('2026-01-01T00:07:00.000Z,DIE-2\n'),
          },
          { class: 'truncated', what: 'a timestamp cut short', write: () => write('2026-01-01T00:0\n') },
          {
            class: 'oversized',
            what: 'a 2 MiB line',
            write: () => write(`2026-01-01T00:00:00.000Z,${'X'.repeat(2 << 20)},5\n`),
          },
          {
            class: 'wrongly encoded',
            what: 'Latin-1 bytes in a UTF-8 file',
            write: () =>
              write(
                Buffer.concat([Buffer.from('2026-01-01T00:00:00.000Z,D'), Buffer.from([0xc9]), Buffer.from('-1,7\n')]),
              ),
          },
          {
            class: 'wrongly encoded',
            what: 'a UTF-16LE line',
            write: () =>
              write(Buffer.concat([Buffer.from('2026-01-01T00:00:00.000Z,DIE-1,9', 'utf16le'), Buffer.from('\n')])),
          },
          {
            class: 'schema-drifted',
            what: 'a fourth column',
            write: () => write('2026-01-01T00:00:00.000Z,DIE-1,12,0.93\n'),
          },
          {
            class: 'schema-drifted',
            what: 'kWh with decimals instead of Wh',
            write: () => write('2026-01-01T00:00:00.000Z,DIE-1,0.012\n'),
          },
          {
            class: 'schema-drifted',
            what: 'a new file whose header renamed and reordered the columns',
            async write() {
              await writeFile(
                join(dir, 'energy-2026-01-00.csv'),
                'machine,start,kwh\nDIE-1,2026-01-01T00:00:00.000Z,0.5\n',
              );
              return /^energy-2026-01-00\.csv#[12]$/;
            },
          },
        ],
        cleanup: () => rm(dir, { recursive: true, force: true }),
      },
    };
  },
});
