import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createRng } from '../prng.ts';
import { createToolApiServer, type ToolApiServer } from './tool-api-server.ts';
import { createToolApiStore, type ToolApiStore } from './tool-api-store.ts';

// The HTTP API alone, over a hand-filled store: pagination, ETag / 304, retention, bad requests.
const START = Date.UTC(2026, 10, 22, 6, 0, 0);
const servers: ToolApiServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(
  opts: { retainMs?: number; seqBase?: number } = {},
): Promise<{ store: ToolApiStore; server: ToolApiServer; url: string; faults: string[] }> {
  const store = createToolApiStore({
    toolIds: ['T-003', 'T-001', 'T-002', 'T-004', 'T-005'],
    startTime: START,
    ...opts,
  });
  const faults: string[] = [];
  const server = createToolApiServer({
    store,
    rng: createRng(1),
    faults: { error500Rate: 0, timeoutRate: 0 },
    onFault: (kind) => faults.push(kind),
  });
  servers.push(server);
  return { store, server, url: await server.listen(), faults };
}

const get = (url: string, etag?: string) => fetch(url, { headers: etag ? { 'if-none-match': etag } : {} });

describe('tool api server', () => {
  it('pages /api/tools in tool order, with ETag, Last-Modified and 304 until a tool changes', async () => {
    const { store, url } = await serve();
    const r1 = await get(`${url}/api/tools?page=1&pageSize=2`);
    assert.equal(r1.status, 200);
    const b1 = await r1.json();
    assert.deepEqual(
      b1.items.map((t: { toolId: string }) => t.toolId),
      ['T-001', 'T-002'],
    );
    assert.deepEqual([b1.total, b1.totalPages, b1.page, b1.pageSize], [5, 3, 1, 2]);
    assert.deepEqual(b1.items[0], {
      toolId: 'T-001',
      status: 'in',
      holder: null,
      since: new Date(START).toISOString(),
    });
    const b3 = await (await get(`${url}/api/tools?page=3&pageSize=2`)).json();
    assert.deepEqual(
      b3.items.map((t: { toolId: string }) => t.toolId),
      ['T-005'],
    );
    assert.equal(r1.headers.get('last-modified'), new Date(START).toUTCString());
    const tag = r1.headers.get('etag')!;
    assert.match(tag, /^"[^"]+"$/);
    const again = await get(`${url}/api/tools?page=1&pageSize=2`, tag);
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('etag'), tag);
    store.record({ toolId: 'T-002', action: 'out', holder: 'E0007', at: START + 60_000 });
    const changed = await get(`${url}/api/tools?page=1&pageSize=2`, tag);
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), tag);
    assert.equal(changed.headers.get('last-modified'), new Date(START + 60_000).toUTCString());
    const t2 = (await changed.json()).items[1];
    assert.deepEqual(t2, {
      toolId: 'T-002',
      status: 'out',
      holder: 'E0007',
      since: new Date(START + 60_000).toISOString(),
    });
  });

  it('pages /api/tool-movements by seq with a next cursor, and 304s the unchanged end', async () => {
    const { store, url } = await serve({ seqBase: 1000 });
    for (let i = 0; i < 7; i++)
      store.record({ toolId: 'T-001', action: i % 2 === 0 ? 'out' : 'in', holder: 'E0001', at: START + i * 60_000 });
    const seen: number[] = [];
    let afterSeq = 0;
    let pages = 0;
    for (;;) {
      const body = await (await get(`${url}/api/tool-movements?after=${afterSeq}&limit=3`)).json();
      pages++;
      seen.push(...body.items.map((m: { seq: number }) => m.seq));
      assert.equal(body.latestSeq, 1007);
      if (body.next === null) break;
      assert.equal(body.next, body.items[body.items.length - 1].seq);
      afterSeq = body.next;
    }
    assert.deepEqual(seen, [1001, 1002, 1003, 1004, 1005, 1006, 1007]);
    assert.equal(pages, 3);
    const first = (await (await get(`${url}/api/tool-movements?after=0&limit=1`)).json()).items[0];
    assert.deepEqual(first, {
      seq: 1001,
      toolId: 'T-001',
      action: 'out',
      holder: 'E0001',
      at: new Date(START).toISOString(),
    });

    const end = await get(`${url}/api/tool-movements?after=1007&limit=3`);
    assert.deepEqual(await end.json(), { items: [], next: null, latestSeq: 1007 });
    const tag = end.headers.get('etag')!;
    assert.equal((await get(`${url}/api/tool-movements?after=1007&limit=3`, tag)).status, 304);
    const bad = store.recordMalformed(
      { toolId: 'T-001', action: 'in', holder: 'E0001', at: 'not-a-date' },
      START + 8 * 60_000,
    );
    assert.equal(bad, 1008, 'a malformed movement occupies its seq');
    const fresh = await get(`${url}/api/tool-movements?after=1007&limit=3`, tag);
    assert.equal(fresh.status, 200);
    assert.deepEqual((await fresh.json()).items, [
      { seq: 1008, toolId: 'T-001', action: 'in', holder: 'E0001', at: 'not-a-date' },
    ]);
  });

  it('keeps a bounded history and answers 410 for a position it dropped', async () => {
    const { store, url } = await serve({ retainMs: 10 * 60_000 });
    for (let i = 0; i < 30; i++)
      store.record({ toolId: 'T-004', action: i % 2 === 0 ? 'out' : 'in', holder: 'E0002', at: START + i * 60_000 });
    assert.equal(store.size, 11, 'only the last 10 simulated minutes (+ the newest) are held');
    assert.equal((await get(`${url}/api/tool-movements?after=0`)).status, 410);
    const ok = await (await get(`${url}/api/tool-movements?after=19`)).json();
    assert.equal(ok.items[0].seq, 20);
  });

  it('rejects bad parameters, unknown routes and other methods', async () => {
    const { url } = await serve();
    assert.equal((await get(`${url}/api/tool-movements?after=-1`)).status, 400);
    assert.equal((await get(`${url}/api/tool-movements?limit=0`)).status, 400);
    assert.equal((await get(`${url}/api/tools?page=x`)).status, 400);
    assert.equal((await get(`${url}/api/nothing`)).status, 404);
    assert.equal((await fetch(`${url}/api/tools`, { method: 'POST' })).status, 405);
  });

  it('injects HTTP 500s and hangs that end in a closed connection, and counts them', async () => {
    const { server, url, faults } = await serve();
    server.setFaults({ error500Rate: 1, timeoutRate: 0 });
    assert.equal((await get(`${url}/api/tools`)).status, 500);
    server.setFaults({ error500Rate: 0, timeoutRate: 1, hangMs: 150 });
    const t0 = Date.now();
    await assert.rejects(fetch(`${url}/api/tools`), /fetch failed/);
    assert.ok(Date.now() - t0 >= 140, 'hung for hangMs before closing');
    await assert.rejects(fetch(`${url}/api/tools`, { signal: AbortSignal.timeout(50) }), /aborted|timeout/i);
    server.setFaults({ error500Rate: 0, timeoutRate: 0 });
    assert.equal((await get(`${url}/api/tools`)).status, 200);
    const st = server.stats();
    assert.equal(st.errors500, 1);
    assert.equal(st.timeouts, 2);
    assert.deepEqual(faults, ['api_error', 'timeout', 'timeout'], 'every injected fault is reported for the ledger');
  });
});
