import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MillraceError } from '../../lib/errors.ts';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import type { Topic } from '../../log/topic.ts';
import { migrate } from '../../store/migrate.ts';
import type { Connector } from '../define-connector.ts';
import { envelopeSchema, type Envelope } from '../envelope.ts';
import { postgresCdc } from './postgres-cdc.ts';
import { lsnToNumber, slotPositions } from './postgres-cdc-setup.ts';
import { createCdcFixture, dropSlot, expectedId, insertOrders, type CdcFixture } from './postgres-cdc.testkit.ts';

const pool = testPool();
const schema = testSchemaName('cdc_conn');
const fixtures: CdcFixture[] = [];
before(() => migrate(pool, schema, 1));
after(async () => {
  for (const f of fixtures) await f.cleanup();
  await dropSchema(pool, schema);
  await pool.end();
});

async function setup() {
  const f = await createCdcFixture();
  fixtures.push(f);
  const log = createPostgresTopic({ pool, name: `cdc_log_${randomBytes(3).toString('hex')}`, partitions: 1, schema });
  await log.ensure();
  const name = `cdc-${randomBytes(3).toString('hex')}`;
  const errors: unknown[] = [];
  const connector = (l: Topic = log, config: object = f.config): Connector =>
    postgresCdc.create(postgresCdc.config.parse(config), { name, pool, schema, log: l, openTopic: () => log, onError: (e) => errors.push(e) });
  const envelopes = async (): Promise<Envelope[]> =>
    (await pool.query(`SELECT value FROM ${schema}.records WHERE topic = $1 ORDER BY "offset"`, [log.name])).rows.map((r) => envelopeSchema.parse(JSON.parse(r.value)));
  const waitFor = async (pred: (e: Envelope[]) => boolean, what: string) => {
    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const e = await envelopes();
      if (pred(e)) return e;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(e.map((x) => x.id))} ${String(errors)}`);
    }
  };
  return { f, log, name, errors, connector, envelopes, waitFor };
}

const at = (iso: string) => Date.parse(iso);

describe('postgres-cdc connector', () => {
  it('carries before images: status moves, a note-only update, a delete; eventTime follows the ledger minute rule', async () => {
    const s = await setup();
    const c = s.connector();
    await c.start();
    try {
      const t = s.f.table;
      await s.f.pool.query(`INSERT INTO ${t} VALUES ('R1', 'repair', 'BND-2', 2, 'requested', '2026-01-05T08:00:10Z', NULL, NULL, '2026-01-05T08:00:10Z', NULL),
        ('P1', 'purchase', 'T-003', NULL, 'requested', '2026-01-05T08:01:00Z', NULL, NULL, '2026-01-05T08:01:00Z', NULL)`);
      await s.f.pool.query(`UPDATE ${t} SET status = 'confirmed', confirmed_at = '2026-01-05T08:30:00Z', updated_at = '2026-01-05T08:30:00Z' WHERE order_id = 'R1'`);
      await s.f.pool.query(`UPDATE ${t} SET note = 'waiting for spare part', updated_at = '2026-01-05T09:00:00Z' WHERE order_id = 'R1'`);
      await s.f.pool.query(`UPDATE ${t} SET status = 'completed', completed_at = '2026-01-05T11:15:30Z', updated_at = '2026-01-05T11:15:30Z' WHERE order_id = 'R1'`);
      await s.f.pool.query(`DELETE FROM ${t} WHERE order_id = 'P1'`);
      const all = await s.waitFor((e) => e.length >= 6, '6 changes');
      const observed = await s.f.observe();
      assert.deepEqual(all.map((e) => e.id), observed.map((o) => expectedId(s.f, o)), 'ids are table + LSN + primary key, in commit order');
      const p = all.map((e) => e.payload);
      assert.deepEqual(p.map((x) => [x.op, x.orderId, x.prevStatus, x.status, x.becameCreated, x.becameCompleted]), [
        ['insert', 'R1', null, 'requested', 'yes', 'no'],
        ['insert', 'P1', null, 'requested', 'yes', 'no'],
        ['update', 'R1', 'requested', 'confirmed', 'no', 'no'],
        ['update', 'R1', 'confirmed', 'confirmed', 'no', 'no'], // the note-only update moves nothing
        ['update', 'R1', 'confirmed', 'completed', 'no', 'yes'],
        ['delete', 'P1', 'requested', 'requested', 'no', 'no'],
      ]);
      assert.deepEqual(all.map((e) => e.eventTime), [
        at('2026-01-05T08:00:10Z'), at('2026-01-05T08:01:00Z'), at('2026-01-05T08:30:00Z'), at('2026-01-05T09:00:00Z'), at('2026-01-05T11:15:30Z'), at('2026-01-05T08:01:00Z'),
      ]);
      assert.equal(p[4].durationMs, at('2026-01-05T11:15:30Z') - at('2026-01-05T08:00:10Z'));
      assert.equal(p[0].severity, '2');
      assert.equal(p[1].severity, null);
      assert.equal(all[0].key, 'R1');
      assert.equal(all[0].source, `postgres:${s.f.table}`);
      const before = p[4].before as Record<string, unknown>;
      assert.equal(before.status, 'confirmed');
      assert.equal(before.note, 'waiting for spare part');
      assert.equal(before.confirmed_at, at('2026-01-05T08:30:00Z'));
      assert.equal((p[4].after as Record<string, unknown>).completed_at, at('2026-01-05T11:15:30Z'));
      assert.equal(p[5].after, null);
      assert.deepEqual(Object.keys(p[5].before as object).sort(), ['completed_at', 'confirmed_at', 'kind', 'note', 'order_id', 'requested_at', 'severity', 'status', 'subject', 'updated_at']);
    } finally {
      await c.stop();
    }
  });

  it('crash after publish, before the checkpoint: the slot is not acknowledged, a restart redelivers the same ids', async () => {
    const s = await setup();
    let crashed = false;
    const crashing: Topic = {
      ...s.log, name: s.log.name, partitions: s.log.partitions,
      publish: async (records) => {
        const res = await s.log.publish(records);
        if (!crashed) {
          crashed = true;
          throw new Error('simulated crash after the log acknowledged');
        }
        return res;
      },
    };
    const first = s.connector(crashing);
    await first.start();
    await insertOrders(s.f, ['A1', 'A2', 'A3']);
    const ids = (await s.f.observe()).map((o) => expectedId(s.f, o));
    await s.waitFor((e) => e.length === 3, 'the first publish');
    await first.stop();
    assert.ok(crashed);
    const { confirmed } = await slotPositions(s.f.pool, s.f.config.slot);
    const insertLsn = lsnToNumber((await s.f.observe())[0].lsn);
    assert.ok(confirmed! <= insertLsn, `the slot was not acknowledged past the unsaved transaction (${confirmed} vs ${insertLsn})`);
    assert.equal((await pool.query(`SELECT 1 FROM ${schema}.connector_state WHERE connector = $1`, [s.name])).rowCount, 0, 'no checkpoint');

    const again = s.connector();
    await again.start();
    try {
      const all = await s.waitFor((e) => e.length === 6, 'the redelivery');
      assert.deepEqual(all.map((e) => e.id), [...ids, ...ids], 'redelivered with the same ids');
      const state = await pool.query(`SELECT state FROM ${schema}.connector_state WHERE connector = $1`, [s.name]);
      assert.ok(lsnToNumber(state.rows[0].state.lsn) > insertLsn, 'checkpoint saved after the redelivery');
      for (let deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
        const now = await slotPositions(s.f.pool, s.f.config.slot);
        if (now.confirmed! > insertLsn) break;
        assert.ok(Date.now() < deadline, 'the slot is acknowledged after the checkpoint');
      }
    } finally {
      await again.stop();
    }
  });

  it('a slot dropped under a stopped connector: start fails with CDC_SLOT_LOST and says how to recover', async () => {
    const s = await setup();
    const c = s.connector();
    await c.start();
    await insertOrders(s.f, ['L1']);
    await s.waitFor((e) => e.length === 1, 'one change');
    for (let deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
      if ((await pool.query(`SELECT 1 FROM ${schema}.connector_state WHERE connector = $1`, [s.name])).rowCount) break;
      assert.ok(Date.now() < deadline, 'checkpoint saved');
    }
    await c.stop();
    await dropSlot(s.f.pool, s.f.config.slot);
    const next = s.connector();
    await assert.rejects(next.start(), (err: unknown) => {
      assert.ok(err instanceof MillraceError);
      assert.equal(err.code, 'CDC_SLOT_LOST');
      assert.match(err.message, /cdc_[0-9a-f]+" does not exist.*checkpointed at/);
      assert.match(err.message, /DELETE FROM <millrace schema>\.connector_state/);
      return true;
    });
    await next.stop();
    const slots = await s.f.pool.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [s.f.config.slot]);
    assert.equal(slots.rowCount, 0, 'a lost slot is not silently re-created');
  });

  it('refuses a table without REPLICA IDENTITY FULL (CDC_CONFIG) and keeps retrying a missing table', async () => {
    const s = await setup();
    await s.f.pool.query(`ALTER TABLE ${s.f.table} REPLICA IDENTITY DEFAULT`);
    await assert.rejects(s.connector().start(), (err: unknown) => err instanceof MillraceError && err.code === 'CDC_CONFIG' && /REPLICA IDENTITY FULL/.test(err.message));
    const missing = s.connector(s.log, { ...s.f.config, tables: [`${s.f.schema}.nope`] });
    await missing.start(); // resolves: the writer may create the table later
    try {
      assert.ok(s.errors.some((e) => e instanceof MillraceError && e.code === 'CDC_TABLE_MISSING'));
      assert.match((await missing.status()).lastError ?? '', /does not exist/);
    } finally {
      await missing.stop();
    }
  });
});

