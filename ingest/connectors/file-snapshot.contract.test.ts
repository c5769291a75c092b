import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { connectorContract } from '../connector.contract.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { fileSnapshot } from './file-snapshot.ts';

// The file-snapshot connector against a real CSV file (a tool master list) rewritten on each append:
// every new version re-emits all of its records under new ids (the ids carry the content hash).
connectorContract({
  name: 'file-snapshot (tool master CSV)',
  definition: fileSnapshot as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'file-snapshot-contract-'));
    const path = join(dir, 'tool-master.csv');
    const rows: string[] = [];
    let n = 0;
    const write = async (): Promise<string> => {
      const text = `tool_id,type,vendor,rated_lifespan_hours,use_cases\n${rows.map((r) => `${r}\n`).join('')}`;
      await writeFile(path, text);
      return createHash('sha256').update(text).digest('hex').slice(0, 16);
    };
    return {
      config: { path, format: 'csv', entity: 'tool', keyField: 'tool_id', pollMs: 50 },
      source: {
        async append(k) {
          for (let i = 0; i < k; i++) rows.push(`T-${++n},test socket,Vantor Systems,${600 + n},TST;REW`);
          const hash16 = await write();
          return rows.filter((r) => !r.startsWith(',')).map((r) => `file:tool:${r.split(',')[0]}:${hash16}`);
        },
        async appendMalformed() {
          rows.push(',bond head,Vantor Systems,1200,BND');
          await write();
          const index = rows.length - 1;
          // The hash of the version that is read (a later append rewrites the file), then the record index.
          return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@[0-9a-f]{16}#${index}$`);
        },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      },
    };
  },
});
