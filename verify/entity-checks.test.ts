import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { ensureLedger } from '../simulator/ledger-schema.ts';
import { recordFacts } from '../simulator/ledger-sources.ts';
import { canonicalJson, readEntitySnapshot, runEntityChecks } from './entity-checks.ts';

const pool = testPool();
const schema = testSchemaName('ledger_entities');

/** What the canned API serves per entity kind: key → { data, deleted }, in key order. */
let served: Record<string, Record<string, { data: unknown; deleted?: boolean }>> = {};
const requests: Array<{ entity: string; limit: number; after: string | null }> = [];
let beforeAnswer: () => Promise<void> = async () => undefined;
let server: Server;
let url: string;

before(async () => {
  await ensureLedger(pool, schema);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const { query, variables: v } = JSON.parse(body) as {
        query: string;
        variables: { entity: string; limit: number; after: string | null };
      };
      // As the API: a personal kind's data comes only as `personalData`.
      const hidden = v.entity === 'worker' && !query.includes('data: personalData');
      requests.push(v);
      await beforeAnswer();
      const rows = Object.entries(served[v.entity] ?? {})
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .filter(([k]) => v.after === null || k > v.after)
        .slice(0, v.limit);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          data: {
            entities: rows.map(([key, e]) => ({
              key,
              deleted: !!e.deleted,
              data: e.deleted || hidden ? null : JSON.stringify(e.data),
            })),
          },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
after(async () => {
  server.close();
  await dropSchema(pool, schema);
  await pool.end();
});

describe('entity checks (ledger entities ↔ served entities)', () => {
  it('passes when every entity is served with the ledger data, whatever the key order inside the data', async () => {
    const tools = Array.from({ length: 1203 }, (_, i) => ({
      entity: 'tool',
      key: `T${String(i).padStart(4, '0')}`,
      data: { toolId: `T${i}`, kind: 'drill', life: i },
    }));
    await recordFacts(pool, schema, { source: 'reference-files', facts: [], entities: tools, sealedBefore: null });
    await recordFacts(pool, schema, {
      source: 'sql-engine',
      facts: [],
      entities: [{ entity: 'work_order', key: 'WO-1', data: { woId: 'WO-1', plannedQty: 5 } }],
      sealedBefore: 1,
    });
    served = {
      tool: Object.fromEntries(
        tools.map((t) => [t.key, { data: { life: t.data.life, kind: 'drill', toolId: t.data.toolId } }]),
      ),
      work_order: { 'WO-1': { data: { plannedQty: 5, woId: 'WO-1' } }, 'WO-0': { data: null, deleted: true } },
    };
    requests.length = 0;
    const r = await runEntityChecks({
      before: await readEntitySnapshot(pool, schema),
      pool,
      schema,
      api: { url },
      log: () => undefined,
    });
    assert.deepEqual(r.mismatches, []);
    assert.deepEqual(r.checked, { 'reference-files': 1203, 'sql-engine': 1 });
    // 1203 tools in pages of 500: three requests, each after the last key of the page before.
    assert.deepEqual(
      requests.filter((q) => q.entity === 'tool').map((q) => q.after),
      [null, 'T0499', 'T0999'],
    );
  });

  it('reports a wrong, a missing and an invented entity, and skips one the simulator changed meanwhile', async () => {
    served.tool.T0001 = { data: { toolId: 'T1', kind: 'drill', life: 999 } }; // wrong
    delete served.tool.T0002; // missing
    served.tool.T9999 = { data: { toolId: 'T9999' } }; // invented
    served.work_order['WO-1'] = { data: { woId: 'WO-1', plannedQty: 6 } }; // newer than the ledger read first…
    const before = await readEntitySnapshot(pool, schema);
    // …because the simulator amends WO-1 while verify reads the API: in flight, not compared.
    beforeAnswer = () =>
      recordFacts(pool, schema, {
        source: 'sql-engine',
        facts: [],
        entities: [{ entity: 'work_order', key: 'WO-1', data: { woId: 'WO-1', plannedQty: 6 } }],
        sealedBefore: 2,
      });
    try {
      const r = await runEntityChecks({ before, pool, schema, api: { url }, log: () => undefined });
      assert.equal(r.inFlight, 1);
      assert.deepEqual(
        r.mismatches.map((m) => [m.source, m.entity, m.key, m.expected === null, m.actual === null]).sort(),
        [
          ['reference-files', 'tool', 'T0001', false, false],
          ['reference-files', 'tool', 'T0002', false, true],
          ['reference-files', 'tool', 'T9999', true, false],
        ],
      );
    } finally {
      beforeAnswer = async () => undefined;
    }
  });

  it('reads workers (names: personal data) through `personalData` and compares them like any entity', async () => {
    await recordFacts(pool, schema, {
      source: 'clockin-excel',
      facts: [],
      entities: [
        { entity: 'worker', key: 'E0001', data: { name: 'Ana Berg', department: 'Assembly' } },
        { entity: 'worker', key: 'E0002', data: { name: 'Ben Castillo', department: 'Test' } },
      ],
      sealedBefore: null,
    });
    served.worker = {
      E0001: { data: { department: 'Assembly', name: 'Ana Berg' } },
      E0002: { data: { department: 'Test', name: 'Ben Castilo' } }, // misspelt
    };
    const r = await runEntityChecks({
      before: await readEntitySnapshot(pool, schema),
      pool,
      schema,
      api: { url },
      log: () => undefined,
    });
    assert.equal(r.checked['clockin-excel'], 2);
    assert.deepEqual(
      r.mismatches.filter((m) => m.entity === 'worker'),
      [
        {
          source: 'clockin-excel',
          entity: 'worker',
          key: 'E0002',
          expected: { name: 'Ben Castillo', department: 'Test' },
          actual: { name: 'Ben Castilo', department: 'Test' },
        },
      ],
    );
  });

  it('canonical JSON ignores key order only', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), canonicalJson({ a: [{ c: null, d: 2 }], b: 1 }));
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
    assert.notEqual(canonicalJson({ a: '1' }), canonicalJson({ a: 1 }));
  });
});
