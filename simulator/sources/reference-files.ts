import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { withContext } from '../../lib/errors.ts';
import { recordFacts } from '../ledger-sources.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';
import { generateToolMaster, toolMasterCsv, toolMasterRow } from './tool-master.ts';

/** The writer's name: the `source` of its ledger entities. */
export const REFERENCE_WRITER = 'reference-files';

/** Paths of the two files, relative to the data directory (docs/sources.md, rows 9 and 10). */
export const FLOOR_MAP_FILE = join('reference', 'floor-map.json');
export const TOOL_MASTER_FILE = join('reference', 'tool-master.csv');

/** Write a file durably and atomically: a reader sees the old content or the whole new one. */
async function writeDurably(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/**
 * The reference files (MYCPU.md: the floor map and the tool master list never refresh): written
 * once, on the first `advanceTo`, then never touched again. The ledger records each station and
 * tool as an entity, its data exactly the record the file-snapshot connector will emit.
 */
export function createReferenceFilesWriter(ctx: WriterContext): SourceWriter {
  const tools = generateToolMaster(ctx.seed);
  let done = false;
  let written = 0;
  return {
    name: REFERENCE_WRITER,
    async advanceTo() {
      if (done) return;
      try {
        await mkdir(join(ctx.dataDir, 'reference'), { recursive: true });
        await writeDurably(join(ctx.dataDir, FLOOR_MAP_FILE), `${JSON.stringify(ctx.floor, null, 2)}\n`);
        await writeDurably(join(ctx.dataDir, TOOL_MASTER_FILE), toolMasterCsv(tools));
      } catch (err) {
        throw withContext(err, `reference files writer: ${ctx.dataDir}`);
      }
      try {
        await recordFacts(ctx.pool, ctx.ledgerSchema, {
          source: REFERENCE_WRITER,
          facts: [],
          entities: [
            ...ctx.floor.stations.map((s) => ({ entity: 'station', key: s.id, data: s })),
            ...tools.map((t) => ({ entity: 'tool', key: t.toolId, data: toolMasterRow(t) })),
          ],
          sealedBefore: null,
        });
      } catch (err) {
        throw withContext(err, 'reference files writer: ledger');
      }
      written = ctx.floor.stations.length + tools.length;
      done = true;
    },
    stats: () => ({ written, faults: {} }),
    async close() {},
  };
}
