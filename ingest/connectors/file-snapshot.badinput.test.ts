import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { badInputSuite } from '../bad-input.testkit.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { fileSnapshot } from './file-snapshot.ts';

// file-snapshot against a real reference file (a tool list exported as CSV by another program): bad
// rows between good ones in one file. A snapshot's event ids carry the version's content hash, so the
// suite checks entities (`tool:<key>`), and a dead letter's position is the row's index in the file.

badInputSuite({
  name: 'file-snapshot (tool list, CSV)',
  definition: fileSnapshot as unknown as ConnectorDefinition<z.ZodType>,
  identify: (env) => `${String(env.payload.entity)}:${String(env.payload.key)}`,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'snapshot-bad-'));
    const path = join(dir, 'tools.csv');
    const rows: Buffer[] = [];
    let n = 0;
    const save = () => writeFile(path, Buffer.concat([Buffer.from('tool_id,name,qty\n'), ...rows]));
    /** Add a row; returns its dead letter's position (any version's hash, this row's index). */
    const put = async (line: Buffer | string) => {
      rows.push(Buffer.concat([Buffer.from(line), Buffer.from('\n')]));
      await save();
      return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@[0-9a-f]{16}#${rows.length - 1}$`);
    };
    return {
      config: { path, format: 'csv', entity: 'tool', keyField: 'tool_id', pollMs: 50 },
      source: {
        async append(k) {
          const ids: string[] = [];
          for (let i = 0; i < k; i++) {
            const key = `T-${String(++n).padStart(3, '0')}`;
            ids.push(`tool:${key}`);
            rows.push(Buffer.from(`${key},Hammer ${n},${n}\n`));
          }
          await save();
          return ids;
        },
        bad: [
          { class: 'malformed', what: 'a row with an empty key', write: () => put(',Chisel,3') },
          { class: 'truncated', what: 'a row cut after its name', write: () => put('T-900,Chis') },
          {
            class: 'oversized',
            what: 'a 1 MiB name (over the log message limit)',
            write: () => put(`T-901,${'N'.repeat(1 << 20)},1`),
          },
          {
            class: 'wrongly encoded',
            what: 'a Latin-1 byte in a name (a file saved as Windows-1252)',
            write: () => put(Buffer.concat([Buffer.from('T-902,Schl'), Buffer.from([0xfc]), Buffer.from('ssel,2')])),
          },
          {
            class: 'schema-drifted',
            what: 'a row with a column the header lacks',
            write: () => put('T-903,Saw,4,blue'),
          },
        ],
        cleanup: () => rm(dir, { recursive: true, force: true }),
      },
    };
  },
});
