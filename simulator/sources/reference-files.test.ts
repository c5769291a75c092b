import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger.ts';
import { createReferenceFilesWriter, FLOOR_MAP_FILE, TOOL_MASTER_FILE } from './reference-files.ts';
import { generateToolMaster } from './tool-master.ts';
import type { WriterContext } from './source-writer.ts';

const pool = testPool();
const floor = loadFloorMap();
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
  await pool.end();
});

async function context(seed: number): Promise<WriterContext> {
  const ledgerSchema = testSchemaName('ledger_ref');
  await ensureLedger(pool, ledgerSchema);
  const dataDir = await mkdtemp(join(tmpdir(), 'reference-'));
  cleanups.push(
    () => dropSchema(pool, ledgerSchema),
    () => rm(dataDir, { recursive: true, force: true }),
  );
  return {
    seed,
    startTime: Date.UTC(2026, 0, 1),
    dataDir,
    floor,
    pool,
    ledgerSchema,
    faultRate: 1,
    log: () => undefined,
    openTopic: () => {
      throw new Error('no topic');
    },
  };
}

const entities = async (schema: string, entity: string) =>
  new Map(
    (
      await pool.query(`SELECT key, data FROM ${schema}.entities WHERE entity = $1 AND source = 'reference-files'`, [
        entity,
      ])
    ).rows.map((r) => [r.key, r.data]),
  );

describe('reference files writer', () => {
  it('writes the floor map and the tool master once; the ledger holds each record as a reader parses it', async () => {
    const ctx = await context(5);
    const w = createReferenceFilesWriter(ctx);
    await w.advanceTo(ctx.startTime);
    const toolsPath = join(ctx.dataDir, TOOL_MASTER_FILE);
    const before = await stat(toolsPath);
    await w.advanceTo(ctx.startTime + 86_400_000);
    assert.equal((await stat(toolsPath)).mtimeMs, before.mtimeMs, 'never written again');

    const rows = parse(await readFile(toolsPath, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, 40);
    assert.deepEqual(Object.keys(rows[0]), ['tool_id', 'type', 'vendor', 'rated_lifespan_hours', 'use_cases']);
    assert.equal(new Set(rows.map((r) => r.tool_id)).size, 40, 'tool ids are unique');
    assert.ok(rows.every((r) => Number(r.rated_lifespan_hours) > 0 && r.use_cases.length > 0));
    assert.deepEqual(await entities(ctx.ledgerSchema, 'tool'), new Map(rows.map((r) => [r.tool_id, r])));

    const map = JSON.parse(await readFile(join(ctx.dataDir, FLOOR_MAP_FILE), 'utf8')) as typeof floor;
    assert.deepEqual(map, floor);
    assert.deepEqual(await entities(ctx.ledgerSchema, 'station'), new Map(map.stations.map((s) => [s.id, s])));
    assert.equal(w.stats().written, floor.stations.length + 40);
  });

  it('same seed → the same files; another seed → another tool list', async () => {
    const [a, b, c] = [await context(5), await context(5), await context(6)];
    for (const ctx of [a, b, c]) await createReferenceFilesWriter(ctx).advanceTo(ctx.startTime);
    const read = (ctx: WriterContext, f: string) => readFile(join(ctx.dataDir, f), 'utf8');
    assert.equal(await read(b, TOOL_MASTER_FILE), await read(a, TOOL_MASTER_FILE));
    assert.equal(await read(b, FLOOR_MAP_FILE), await read(a, FLOOR_MAP_FILE));
    assert.notEqual(await read(c, TOOL_MASTER_FILE), await read(a, TOOL_MASTER_FILE));
    assert.deepEqual(generateToolMaster(5), generateToolMaster(5));
  });
});
