import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger.ts';
import { sourceSeal } from '../ledger-sources.ts';
import { createRng } from '../prng.ts';
import { createEnergyCsvWriter, ENERGY_WRITER } from './energy-csv.ts';
import type { WriterContext } from './source-writer.ts';

const pool = testPool();
const floor = loadFloorMap();
const MACHINES = floor.stations.flatMap((s) => s.machines);
const MIN = 60_000;
// 23:15 UTC: a 90-minute run crosses midnight (rotation, day-end workbook).
const START = Date.UTC(2026, 2, 10, 23, 15);
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
  await pool.end();
});

async function context(seed = 7): Promise<WriterContext> {
  const ledgerSchema = testSchemaName('ledger_energy');
  await ensureLedger(pool, ledgerSchema);
  const dataDir = await mkdtemp(join(tmpdir(), 'energy-'));
  cleanups.push(
    () => dropSchema(pool, ledgerSchema),
    () => rm(dataDir, { recursive: true, force: true }),
  );
  return {
    seed,
    startTime: START,
    dataDir,
    floor,
    pool,
    ledgerSchema,
    faultRate: 1,
    log: () => undefined,
    openTopic: () => {
      throw new Error('the energy writer opens no topic');
    },
  };
}

async function csvFiles(dataDir: string): Promise<Map<string, string>> {
  const dir = join(dataDir, 'energy');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.csv')).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)));
}

const ledgerFacts = async (schema: string) =>
  (
    await pool.query(
      `SELECT minute::text, station, value::int FROM ${schema}.facts WHERE fact = 'energy_wh' ORDER BY minute, station`,
    )
  ).rows;
const ledgerFaults = async (schema: string) =>
  (await pool.query(`SELECT kind, detail, event_id, event_at::text, raw FROM ${schema}.faults ORDER BY id`)).rows;

/** The truth recomputed from the files alone: well-formed rows, each (interval, machine) once. */
function recompute(files: Map<string, string>): Map<string, number> {
  const truth = new Map<string, number>();
  for (const text of files.values()) {
    for (const line of text.split('\n').slice(1)) {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z),([A-Z]{3}-\d+),(\d+)$/.exec(line);
      if (!m || Number.isNaN(Date.parse(m[1]))) continue;
      const key = `${Date.parse(m[1])}|${m[2]}`;
      if (truth.has(key)) assert.equal(truth.get(key), Number(m[3]), `a duplicate of ${key} carries the same reading`);
      truth.set(key, Number(m[3]));
    }
  }
  return truth;
}

describe('energy CSV writer', () => {
  it('same seed → the same files, facts and faults, however advanceTo is paced', async () => {
    const a = await context();
    const b = await context();
    const wa = createEnergyCsvWriter(a);
    await wa.advanceTo(START + 90 * MIN);
    const wb = createEnergyCsvWriter(b);
    const rng = createRng(1);
    for (let t = START; t < START + 90 * MIN; t += rng.int(1_000, 9 * MIN)) await wb.advanceTo(t);
    await wb.advanceTo(START + 90 * MIN);
    await wb.advanceTo(START + 30 * MIN); // a time already reached: nothing happens
    const fa = await csvFiles(a.dataDir);
    assert.deepEqual([...fa.keys()], ['energy-2026-03-10.csv', 'energy-2026-03-11.csv'], 'one file per UTC day');
    assert.deepEqual(await csvFiles(b.dataDir), fa);
    assert.deepEqual(await ledgerFacts(b.ledgerSchema), await ledgerFacts(a.ledgerSchema));
    assert.deepEqual(await ledgerFaults(b.ledgerSchema), await ledgerFaults(a.ledgerSchema));
    assert.deepEqual(wb.stats(), wa.stats());
  });

  it('injects every fault kind at the default rates within a simulated hour, and records them', async () => {
    const ctx = await context(11);
    const w = createEnergyCsvWriter(ctx);
    await w.advanceTo(START + 60 * MIN);
    const { faults } = w.stats();
    for (const kind of ['malformed', 'duplicate', 'truncated'])
      assert.ok(faults[kind] >= 1, `${kind}: ${JSON.stringify(faults)}`);
    const kinds = new Set((await ledgerFaults(ctx.ledgerSchema)).map((f) => f.kind));
    assert.deepEqual([...kinds].sort(), ['duplicate', 'malformed', 'truncated']);
    const text = [...(await csvFiles(ctx.dataDir)).values()].join('');
    for (const f of await ledgerFaults(ctx.ledgerSchema))
      if (f.raw) assert.ok(text.includes(`${f.raw}\n`), `fault line in the file: ${f.raw}`);
  });

  it('records exactly what the files hold, seals after the last written interval, exports the finished day', async () => {
    const ctx = await context(23);
    const w = createEnergyCsvWriter(ctx);
    await w.advanceTo(START + 90 * MIN + 30_000);
    const files = await csvFiles(ctx.dataDir);
    for (const text of files.values())
      assert.equal(text.split('\n')[0], 'interval_start,machine_id,wh', 'header first');
    const truth = recompute(files);
    assert.equal(truth.size, 90 * MACHINES.length, 'every machine, every minute');
    const facts = await ledgerFacts(ctx.ledgerSchema);
    assert.deepEqual(new Map(facts.map((f) => [`${f.minute}|${f.station}`, f.value])), truth);
    assert.equal(await sourceSeal(pool, ctx.ledgerSchema, ENERGY_WRITER), START + 90 * MIN);
    // Ovens and burn-in draw far more than the receiving dock.
    const mean = (id: string) => facts.filter((f) => f.station === id).reduce((n, f) => n + f.value, 0) / 90;
    assert.ok(
      mean('BRN-1') > 10 * mean('RCV-1') && mean('CUR-1') > 3 * mean('DIE-1'),
      `BRN ${mean('BRN-1')} RCV ${mean('RCV-1')}`,
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(join(ctx.dataDir, 'energy', 'energy-2026-03-10.xlsx'));
    const day1 = [...truth.keys()].filter((k) => Number(k.split('|')[0]) < Date.UTC(2026, 2, 11));
    assert.equal(
      wb.getWorksheet('energy')!.rowCount,
      day1.length + 1,
      'the workbook holds each reading of the day once',
    );
  });
});
