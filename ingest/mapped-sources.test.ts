import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TEST_DATABASE_URL } from '../lib/test-db.ts';
import { createHarness, writeSheet, type Harness } from './connectors/excel.testkit.ts';
import { dropSlot } from './connectors/postgres-cdc.testkit.ts';
import { excelSource } from './connectors/excel.ts';
import { restPoll } from './connectors/rest-poll.ts';
import { postgresCdc } from './connectors/postgres-cdc.ts';
import { mapRecord, recordMappingSchema } from './record-mapping.ts';
import type { Connector } from './define-connector.ts';

// One harness (schema, log topic, temp directory) for the three kinds: a plant's own sheet, API and table.
let h: Harness;
before(async () => (h = await createHarness()));
after(() => h.cleanup());

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('record mapping', () => {
  const m = recordMappingSchema.parse({
    type: { field: 'action', values: { out: 'tool.out', in: 'tool.in' } },
    key: ['line', 'machine'],
    eventTime: 'at',
    payload: {
      parts: { from: 'parts', as: 'integer' },
      who: { from: 'operator', as: 'string', required: false },
      raw: 'extra',
    },
  });

  it('maps a record to type, key, time and typed payload', () => {
    assert.deepEqual(
      mapRecord(m, {
        action: 'out',
        line: 'L1',
        machine: 'M7',
        at: '2026-12-05 10:00:00.250',
        parts: '12',
        operator: null,
        extra: { a: 1 },
      }),
      {
        type: 'tool.out',
        key: 'L1:M7',
        eventTime: Date.UTC(2026, 11, 5, 10, 0, 0, 250),
        payload: { parts: 12, who: null, raw: { a: 1 } },
      },
    );
    const d = mapRecord(m, { action: 'in', line: 'L1', machine: 'M7', at: new Date(5), parts: 3, extra: 0 });
    assert.ok(typeof d !== 'string' && d.type === 'tool.in' && d.eventTime === 5, 'a Date is a time');
  });

  it('gives the reason a record cannot be an event', () => {
    const ok = { action: 'out', line: 'L1', machine: 'M7', at: 1000, parts: 1, extra: 1 };
    assert.equal(mapRecord(m, { ...ok, action: 'lost' }), 'action "lost" is not one of out, in');
    assert.equal(mapRecord(m, { ...ok, machine: ' ' }), 'machine (key) is empty');
    assert.equal(mapRecord(m, { ...ok, at: 'yesterday' }), 'at "yesterday" is not a time');
    assert.equal(mapRecord(m, { ...ok, parts: '1.5' }), 'parts "1.5" is not an integer');
    assert.equal(mapRecord(m, { ...ok, extra: undefined }), 'extra is empty');
  });
});

describe('connector kinds read any source of their kind by mapping', () => {
  it("excel: a plant's own sheet becomes signed row events of its type", async () => {
    await writeSheet(
      join(h.dir, 'press-2026-12-05.xlsx'),
      ['Machine', 'Time', 'Parts', 'Operator'],
      [
        ['P1', '2026-12-05T06:00:00Z', 40, 'E1'],
        ['P2', '2026-12-05T06:00:00Z', 'forty', 'E2'],
        ['P1', '2026-12-05T07:00:00Z', 38, null],
      ],
      'Press log',
    );
    const map = {
      type: 'press.count',
      key: 'machine',
      eventTime: 'time',
      payload: {
        parts: { from: 'parts', as: 'integer' },
        operator: { from: 'operator', as: 'string', required: false },
      },
    };
    await h.catchUp('press', {
      pattern: 'press-*.xlsx',
      sheet: 'Press log',
      private: [],
      map,
      columns: { machine: ['Machine'], time: ['Time'], parts: ['Parts'], operator: ['Operator'] },
      key: ['machine', 'time'],
      required: ['machine', 'time', 'parts'],
    });
    const events = (await h.envelopes())
      .filter((e) => e.type === 'press.count')
      .sort((a, b) => a.eventTime - b.eventTime);
    assert.deepEqual(
      events.map((e) => [e.key, e.eventTime, e.payload]),
      [
        ['P1', Date.UTC(2026, 11, 5, 6), { sign: 1, operator: 'E1', parts: 40 }],
        ['P1', Date.UTC(2026, 11, 5, 7), { sign: 1, operator: null, parts: 38 }],
      ],
    );
    const dead = await h.deadLetters('press');
    assert.equal(dead.length, 1);
    assert.match(dead[0].reason, /parts "forty" is not an integer/);
  });

  it('excel: a mapping with a per-field type is refused at config time', () => {
    const r = excelSource.config.safeParse({
      directory: h.dir,
      map: { type: { field: 'k', values: { a: 'b' } }, key: 'k', eventTime: 't', payload: {} },
    });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error?.issues), /one fixed event type/);
  });

  it('rest-poll: any seq-paginated API, ids from the resource and seq', async () => {
    const items = [
      { seq: 1, sensor: 'S1', kind: 'temp', value: 2150, at: '2026-12-05T06:00:00Z' },
      { seq: 2, sensor: 'S2', kind: 'humidity', value: 40, at: '2026-12-05T06:00:01Z' },
      { seq: 3, sensor: 'S1', kind: 'temp', value: 'hot', at: '2026-12-05T06:00:02Z' },
    ];
    const server = createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const afterSeq = Number(u.searchParams.get('after') ?? 0);
      const page = items.filter((i) => i.seq > afterSeq).slice(0, Number(u.searchParams.get('limit') ?? 100));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ items: page, next: null, latestSeq: items.length }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const map = {
      type: { field: 'kind', values: { temp: 'climate.temp', humidity: 'climate.humidity' } },
      key: 'sensor',
      eventTime: 'at',
      payload: { value: { from: 'value', as: 'integer' } },
    };
    const c: Connector = restPoll.create(
      restPoll.config.parse({ baseUrl: `http://127.0.0.1:${port}`, path: '/api/readings', pollMs: 50, map }),
      h.ctx('climate'),
    );
    try {
      await c.start();
      await until(
        'the readings',
        () => c.status(),
        (s) => s.positions[0] === 3,
      );
    } finally {
      await c.stop();
      await new Promise((r) => server.close(r));
    }
    const events = (await h.envelopes()).filter((e) => e.type.startsWith('climate.'));
    assert.deepEqual(events.map((e) => [e.id, e.type, e.key, e.payload]).sort(), [
      ['rest:/api/readings:1', 'climate.temp', 'S1', { value: 2150, seq: 1 }],
      ['rest:/api/readings:2', 'climate.humidity', 'S2', { value: 40, seq: 2 }],
    ]);
    assert.match((await h.deadLetters('climate'))[0].reason, /value "hot" is not an integer/);
  });

  it('postgres-cdc: any table with a primary key and REPLICA IDENTITY FULL', async () => {
    const hex = randomBytes(4).toString('hex');
    const table = `${h.schema}.press_${hex}`;
    await h.pool.query(
      `CREATE TABLE ${table} (id int PRIMARY KEY, machine text, parts int, at timestamptz); ALTER TABLE ${table} REPLICA IDENTITY FULL`,
    );
    const config = postgresCdc.config.parse({
      connectionString: TEST_DATABASE_URL,
      slot: `map_${hex}`,
      publication: `map_pub_${hex}`,
      tables: [table],
      map: { type: 'press.row', key: 'machine', eventTime: 'at', payload: { parts: { from: 'parts', as: 'integer' } } },
    });
    const c = postgresCdc.create(config, h.ctx(`cdc-${hex}`));
    try {
      await c.start();
      await h.pool.query(
        `INSERT INTO ${table} VALUES (1, 'P1', 40, '2026-12-05T06:00:00Z'), (2, NULL, 5, '2026-12-05T06:00:00Z')`,
      );
      await h.pool.query(`UPDATE ${table} SET parts = 41 WHERE id = 1`);
      await until(
        'the changes',
        () => c.status(),
        (s) => s.events + s.deadLetters >= 3,
      );
    } finally {
      await c.stop();
      await dropSlot(h.pool, config.slot);
      await h.pool.query(`DROP PUBLICATION IF EXISTS ${config.publication}`);
    }
    const events = (await h.envelopes()).filter((e) => e.type === 'press.row');
    assert.deepEqual(
      events.map((e) => [e.key, e.eventTime, e.payload]),
      [
        ['P1', Date.UTC(2026, 11, 5, 6), { parts: 40, op: 'insert' }],
        ['P1', Date.UTC(2026, 11, 5, 6), { parts: 41, op: 'update' }],
      ],
    );
    assert.ok(
      events.every((e) => e.id.startsWith(`pg:${table}:`) && e.id.endsWith(':1')),
      'ids: table, LSN and primary key',
    );
    assert.match((await h.deadLetters(`cdc-${hex}`))[0].reason, /machine \(key\) is empty/);
  });
});
