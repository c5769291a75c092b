import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger-schema.ts';
import { sourceSeal } from '../ledger-sources.ts';
import { createToolApiWriter, TOOL_API_SOURCE, type ToolApiWriter, type ToolApiWriterOptions } from './tool-api.ts';

// The writer end to end: its real HTTP server, the ledger in real Postgres (one schema per writer).
const pool = testPool();
const floor = loadFloorMap();
const START = Date.UTC(2026, 10, 22, 5, 57, 30);
const H = 3_600_000;
const schemas: string[] = [];
const writers: ToolApiWriter[] = [];
after(async () => {
  for (const w of writers) await w.server.close();
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

const CLEAN = { error500Rate: 0, timeoutRate: 0, malformedRate: 0 };

async function setup(overrides: Partial<ToolApiWriterOptions> = {}) {
  const schema = testSchemaName('ledger_tools');
  schemas.push(schema);
  await ensureLedger(pool, schema);
  const writer = createToolApiWriter({
    seed: 11,
    startTime: START,
    dataDir: '/nonexistent',
    floor,
    pool,
    ledgerSchema: schema,
    openTopic: () => {
      throw new Error('no topic');
    },
    faultRate: 1,
    log: () => undefined,
    faults: CLEAN,
    ...overrides,
  });
  writers.push(writer);
  return { schema, writer };
}

interface Item {
  seq: number;
  toolId: unknown;
  action: unknown;
  holder: unknown;
  at: unknown;
}
/** Every movement the API serves, following `next` (an independent client, not the connector). */
async function readAll(url: string): Promise<Item[]> {
  const out: Item[] = [];
  let afterSeq = 0;
  for (;;) {
    const body = await (await fetch(`${url}/api/tool-movements?after=${afterSeq}&limit=97`)).json();
    out.push(...body.items);
    if (body.next === null) return out;
    afterSeq = body.next;
  }
}

async function ledgerFacts(schema: string): Promise<Map<string, number>> {
  const { rows } = await pool.query(`SELECT fact, minute, station, value FROM ${schema}.facts`);
  return new Map(rows.map((r) => [`${r.fact}|${r.minute}|${r.station}`, Number(r.value)]));
}

/** The truth recomputed from what the API serves: well-formed movements only, in → its tool's last out. */
function recompute(items: Item[]): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, v: number) => out.set(k, (out.get(k) ?? 0) + v);
  const openOut = new Map<string, number>();
  for (const m of items) {
    const at =
      typeof m.at === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(m.at) ? Date.parse(m.at) : NaN;
    if (typeof m.toolId !== 'string' || !(m.action === 'out' || m.action === 'in') || Number.isNaN(at)) continue;
    const minute = Math.floor(at / 60_000) * 60_000;
    if (m.action === 'out') {
      add(`tool_checkouts|${minute}|${m.toolId}`, 1);
      openOut.set(m.toolId, at);
    } else {
      const began = openOut.get(m.toolId);
      assert.ok(began !== undefined, `an in of ${m.toolId} without an out`);
      add(`tool_use_ms|${minute}|${m.toolId}`, at - began);
      openOut.delete(m.toolId);
    }
  }
  return out;
}

describe('tool api writer', () => {
  it('serves a deterministic history for a seed, however time is advanced', async () => {
    const a = await setup();
    const b = await setup();
    const c = await setup({ seed: 12 });
    await a.writer.advanceTo(START + 48 * H);
    for (let t = START; t <= START + 48 * H; t += 37 * 60_000 + 13_000) await b.writer.advanceTo(t);
    await b.writer.advanceTo(START + 48 * H);
    await c.writer.advanceTo(START + 48 * H);
    const [ma, mb, mc] = await Promise.all([readAll(a.writer.url), readAll(b.writer.url), readAll(c.writer.url)]);
    assert.ok(ma.length > 300, `two days of a 40-tool crib: ${ma.length} movements`);
    assert.deepEqual(mb, ma);
    assert.notDeepEqual(
      mc.map((m) => [m.toolId, m.at]),
      ma.map((m) => [m.toolId, m.at]),
      'another seed, another history',
    );
    assert.equal(ma[0].seq, START + 1, 'seqs start just above the start time');
    assert.deepEqual(await ledgerFacts(b.schema), await ledgerFacts(a.schema));
    const tools = new Set(ma.map((m) => m.toolId));
    assert.ok(tools.size >= 35 && [...tools].every((t) => /^T-\d{3}$/.test(String(t))), 'the tool master ids');
    assert.ok(
      ma.every((m) => typeof m.holder === 'string' && /^E\d{4}$/.test(m.holder)),
      'holders are employee ids',
    );
  });

  it('records exactly the facts of what is visible, and seals at the newest movement', async () => {
    const { schema, writer } = await setup({ faults: { ...CLEAN, malformedRate: 0.2 } });
    await writer.advanceTo(START + 30 * H);
    const items = await readAll(writer.url);
    assert.ok(
      items.some((m) => m.at === 'not-a-date' || m.action === 'borrowed' || m.toolId === null),
      'malformed movements are served',
    );
    assert.deepEqual(await ledgerFacts(schema), recompute(items));
    const lastAt = Math.max(
      ...items.filter((m) => typeof m.at === 'string' && m.at !== 'not-a-date').map((m) => Date.parse(m.at as string)),
    );
    assert.equal(await sourceSeal(pool, schema, TOOL_API_SOURCE), Math.floor(lastAt / 60_000) * 60_000);
    const durations = [...(await ledgerFacts(schema))].filter(([k]) => k.startsWith('tool_use_ms')).map(([, v]) => v);
    assert.ok(
      Math.min(...durations) >= 10 * 60_000 - 1_000 && Math.max(...durations) <= 48 * H,
      'minutes to hours per use',
    );
    const tools = await (await fetch(`${writer.url}/api/tools?pageSize=500`)).json();
    assert.equal(tools.total, 40);
    const out = tools.items.filter((t: { status: string }) => t.status === 'out');
    assert.ok(
      out.every((t: { holder: string | null }) => t.holder !== null),
      'a tool out has a holder',
    );
    await writer.close();
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.faults WHERE kind = 'malformed'`);
    assert.equal(rows[0].n, writer.stats().faults.malformed);
  });

  it('makes every fault occur at faultRate 1 (500s, hangs, malformed movements) and records each', async () => {
    const { schema, writer } = await setup({
      faultRate: 1,
      faults: { error500Rate: 0.3, timeoutRate: 0.2, hangMs: 200, malformedRate: 0.05 },
    });
    await writer.advanceTo(START + 24 * H);
    const outcomes = { ok: 0, e500: 0, timeout: 0 };
    for (let i = 0; i < 40; i++) {
      try {
        const r = await fetch(`${writer.url}/api/tool-movements?after=0&limit=1000`, {
          signal: AbortSignal.timeout(100),
        });
        if (r.status === 500) outcomes.e500++;
        else if (r.status === 200) outcomes.ok++;
        await r.body?.cancel();
      } catch {
        outcomes.timeout++;
      }
    }
    assert.ok(outcomes.ok > 0 && outcomes.e500 > 0 && outcomes.timeout > 0, JSON.stringify(outcomes));
    await writer.advanceTo(START + 25 * H); // the next ledger write carries the request faults
    const { rows } = await pool.query(`SELECT kind, count(*)::int AS n FROM ${schema}.faults GROUP BY kind`);
    const byKind = Object.fromEntries(rows.map((r) => [r.kind, r.n]));
    assert.equal(byKind.api_error, outcomes.e500);
    assert.equal(byKind.timeout, outcomes.timeout);
    assert.ok(byKind.malformed > 0, 'malformed movements were injected');
    assert.deepEqual(writer.stats().faults, byKind);
  });
});
