import { describe, it, beforeAll as before, afterAll as after, afterEach } from 'vitest';
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
import { LogicalReplicationService } from 'pg-logical-replication';
import {
  createCdcFixture,
  dropSlot,
  expectedId,
  insertOrders,
  insertTransactions,
  type CdcFixture,
  type ObservedChange,
} from './postgres-cdc.testkit.ts';

const pool = testPool();
const schema = testSchemaName('cdc_conn');
const fixtures: CdcFixture[] = [];
before(() => migrate(pool, schema, 1));
// Each fixture holds two replication slots (max_replication_slots is often 10): free them per test.
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.cleanup();
});
after(async () => {
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
    postgresCdc.create(postgresCdc.config.parse(config), {
      name,
      pool,
      schema,
      log: l,
      openTopic: () => log,
      onError: (e) => errors.push(e),
    });
  const envelopes = async (): Promise<Envelope[]> =>
    (await pool.query(`SELECT value FROM ${schema}.records WHERE topic = $1 ORDER BY "offset"`, [log.name])).rows.map(
      (r) => envelopeSchema.parse(JSON.parse(r.value)),
    );
  const waitFor = async (pred: (e: Envelope[]) => boolean, what: string) => {
    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const e = await envelopes();
      if (pred(e)) return e;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(e.map((x) => x.id))} ${String(errors)}`);
    }
  };
  return { f, log, name, errors, connector, envelopes, waitFor };
}

const at = (iso: string) => Date.parse(iso);

/** Every acknowledgement any replication connection sends: the position it reports, and what had been published by then. */
interface Ack {
  position: number;
  publishedBefore: number;
}
function spyAcks(published: () => number): { acks: Ack[]; restore: () => void } {
  const acks: Ack[] = [];
  const original = LogicalReplicationService.prototype.acknowledge;
  LogicalReplicationService.prototype.acknowledge = function (
    this: LogicalReplicationService,
    lsn: string,
    ping?: boolean,
  ) {
    // The library reports lsn + 1 as flushed; the connector passes (position - 1).
    acks.push({ position: lsnToNumber(lsn) + 1, publishedBefore: published() });
    return original.call(this, lsn, ping);
  };
  return { acks, restore: () => void (LogicalReplicationService.prototype.acknowledge = original) };
}

/**
 * The checkpoint rule, checked against an independent observer: every position acknowledged to the
 * slot (and the saved one) is a commit boundary — no source transaction has changes on both sides of
 * it — and every change before it had been published by then.
 */
function assertCommitBoundaries(
  f: CdcFixture,
  observed: ObservedChange[],
  positions: Array<{ position: number; published: Set<string>; what: string }>,
): void {
  const txs = new Map<string, number[]>();
  for (const c of observed) txs.set(c.xid, [...(txs.get(c.xid) ?? []), lsnToNumber(c.lsn)]);
  for (const p of positions) {
    for (const [xid, lsns] of txs) {
      const before = lsns.filter((l) => l < p.position).length;
      assert.ok(before === 0 || before === lsns.length, `${p.what} at ${p.position} splits transaction ${xid}`);
    }
    const missing = observed.filter((c) => lsnToNumber(c.lsn) < p.position && !p.published.has(expectedId(f, c)));
    assert.deepEqual(
      missing.map((c) => c.orderId),
      [],
      `${p.what} at ${p.position} passed changes not yet published`,
    );
  }
}

describe('postgres-cdc connector', () => {
  it('carries before images: status moves, a note-only update, a delete; eventTime follows the ledger minute rule', async () => {
    const s = await setup();
    const c = s.connector();
    await c.start();
    try {
      const t = s.f.table;
      await s.f.pool
        .query(`INSERT INTO ${t} VALUES ('R1', 'repair', 'BND-2', 2, 'requested', '2026-01-05T08:00:10Z', NULL, NULL, '2026-01-05T08:00:10Z', NULL),
        ('P1', 'purchase', 'T-003', NULL, 'requested', '2026-01-05T08:01:00Z', NULL, NULL, '2026-01-05T08:01:00Z', NULL)`);
      await s.f.pool.query(
        `UPDATE ${t} SET status = 'confirmed', confirmed_at = '2026-01-05T08:30:00Z', updated_at = '2026-01-05T08:30:00Z' WHERE order_id = 'R1'`,
      );
      await s.f.pool.query(
        `UPDATE ${t} SET note = 'waiting for spare part', updated_at = '2026-01-05T09:00:00Z' WHERE order_id = 'R1'`,
      );
      await s.f.pool.query(
        `UPDATE ${t} SET status = 'completed', completed_at = '2026-01-05T11:15:30Z', updated_at = '2026-01-05T11:15:30Z' WHERE order_id = 'R1'`,
      );
      await s.f.pool.query(`DELETE FROM ${t} WHERE order_id = 'P1'`);
      const all = await s.waitFor((e) => e.length >= 6, '6 changes');
      const observed = await s.f.observe();
      assert.deepEqual(
        all.map((e) => e.id),
        observed.map((o) => expectedId(s.f, o)),
        'ids are table + LSN + primary key, in commit order',
      );
      const p = all.map((e) => e.payload);
      assert.deepEqual(
        p.map((x) => [x.op, x.orderId, x.prevStatus, x.status, x.becameCreated, x.becameCompleted]),
        [
          ['insert', 'R1', null, 'requested', 'yes', 'no'],
          ['insert', 'P1', null, 'requested', 'yes', 'no'],
          ['update', 'R1', 'requested', 'confirmed', 'no', 'no'],
          ['update', 'R1', 'confirmed', 'confirmed', 'no', 'no'], // the note-only update moves nothing
          ['update', 'R1', 'confirmed', 'completed', 'no', 'yes'],
          ['delete', 'P1', 'requested', 'requested', 'no', 'no'],
        ],
      );
      assert.deepEqual(
        all.map((e) => e.eventTime),
        [
          at('2026-01-05T08:00:10Z'),
          at('2026-01-05T08:01:00Z'),
          at('2026-01-05T08:30:00Z'),
          at('2026-01-05T09:00:00Z'),
          at('2026-01-05T11:15:30Z'),
          at('2026-01-05T08:01:00Z'),
        ],
      );
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
      assert.deepEqual(Object.keys(p[5].before as object).sort(), [
        'completed_at',
        'confirmed_at',
        'kind',
        'note',
        'order_id',
        'requested_at',
        'severity',
        'status',
        'subject',
        'updated_at',
      ]);
    } finally {
      await c.stop();
    }
  });

  it('crash after publish, before the checkpoint: the slot is not acknowledged, a restart redelivers the same ids', async () => {
    const s = await setup();
    let crashed = false;
    const crashing: Topic = {
      ...s.log,
      name: s.log.name,
      partitions: s.log.partitions,
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
    assert.ok(
      confirmed! <= insertLsn,
      `the slot was not acknowledged past the unsaved transaction (${confirmed} vs ${insertLsn})`,
    );
    assert.equal(
      (await pool.query(`SELECT 1 FROM ${schema}.connector_state WHERE connector = $1`, [s.name])).rowCount,
      0,
      'no checkpoint',
    );

    const again = s.connector();
    await again.start();
    try {
      const all = await s.waitFor((e) => e.length === 6, 'the redelivery');
      assert.deepEqual(
        all.map((e) => e.id),
        [...ids, ...ids],
        'redelivered with the same ids',
      );
      // The checkpoint follows the publish (a moment later): wait for it rather than race it.
      for (let deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
        const state = await pool.query(`SELECT state FROM ${schema}.connector_state WHERE connector = $1`, [s.name]);
        if (state.rowCount && lsnToNumber(state.rows[0].state.lsn) > insertLsn) break;
        assert.ok(Date.now() < deadline, 'checkpoint saved after the redelivery');
      }
      for (let deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
        const now = await slotPositions(s.f.pool, s.f.config.slot);
        if (now.confirmed! > insertLsn) break;
        assert.ok(Date.now() < deadline, 'the slot is acknowledged after the checkpoint');
      }
    } finally {
      await again.stop();
    }
  });

  it('small transactions go out grouped, a large one in pieces; every LSN acknowledged is a commit whose events were published', async () => {
    const s = await setup();
    const tag = randomBytes(2).toString('hex');
    // A backlog, as after downtime: 300 one-row transactions, one of 250 rows, 50 more of one row.
    const orderIds = await insertTransactions(s.f, tag, 351, (i) => (i === 300 ? 250 : 1));
    const publishes: string[][] = [];
    const published: string[] = [];
    const recording: Topic = {
      ...s.log,
      name: s.log.name,
      partitions: s.log.partitions,
      publish: async (records) => {
        const res = await s.log.publish(records);
        const ids = records.map((r) => JSON.parse(r.value).id as string);
        publishes.push(ids);
        published.push(...ids);
        return res;
      },
    };
    const spy = spyAcks(() => published.length);
    const c = s.connector(recording, { ...s.f.config, maxBatchEvents: 100 });
    let observed: ObservedChange[];
    try {
      await c.start();
      observed = await s.f.observe();
      assert.equal(observed.length, 600);
      const lastLsn = lsnToNumber(observed[observed.length - 1].lsn);
      await s.waitFor((e) => e.length >= 600, 'all 600 changes');
      for (let deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
        if ((await slotPositions(s.f.pool, s.f.config.slot)).confirmed! > lastLsn) break;
        assert.ok(Date.now() < deadline, 'the slot is acknowledged past the last transaction');
      }
    } finally {
      await c.stop();
      spy.restore();
    }
    assert.deepEqual(
      published,
      observed.map((o) => expectedId(s.f, o)),
      'every change once, in commit order',
    );
    assert.deepEqual(
      observed.map((o) => o.orderId),
      orderIds,
    );
    assert.ok(publishes.length < 351 / 4, `350 small transactions and a large one in ${publishes.length} publishes`);
    assert.ok(
      publishes.every((p) => p.length <= 100),
      `no publish over maxBatchEvents: ${publishes.map((p) => p.length)}`,
    );
    const big = new Set(observed.filter((o) => o.orderId.startsWith(`RO-${tag}-300-`)).map((o) => expectedId(s.f, o)));
    assert.ok(
      publishes.filter((p) => p.some((id) => big.has(id))).length >= 3,
      'the 250-row transaction went out in pieces',
    );
    const ackChecks = spy.acks.map((a, i) => ({
      position: a.position,
      published: new Set(published.slice(0, a.publishedBefore)),
      what: `ack #${i}`,
    }));
    assert.ok(ackChecks.length > 0);
    const state = await pool.query(`SELECT state, events FROM ${schema}.connector_state WHERE connector = $1`, [
      s.name,
    ]);
    assert.equal(Number(state.rows[0].events), 600, 'each event counted once');
    assertCommitBoundaries(s.f, observed, [
      ...ackChecks,
      { position: lsnToNumber(state.rows[0].state.lsn), published: new Set(published), what: 'checkpoint' },
    ]);
  });

  it('killed between a grouped publish and its checkpoint: nothing past the last checkpoint is acknowledged, a restart loses nothing', async () => {
    const s = await setup();
    const tag = randomBytes(2).toString('hex');
    await insertTransactions(s.f, tag, 201, (i) => (i === 120 ? 150 : 1));
    const observed = await s.f.observe();
    // Two publishes go through; the third reaches the log and then the process "dies": nothing after it is written.
    let publishes = 0;
    const dying: Topic = {
      ...s.log,
      name: s.log.name,
      partitions: s.log.partitions,
      publish: async (records) => {
        if (++publishes > 3) throw new Error('the process is gone');
        const res = await s.log.publish(records);
        if (publishes === 3) throw new Error('simulated crash after the log acknowledged');
        return res;
      },
    };
    const published = async () => new Set((await s.envelopes()).map((e) => e.id));
    const spy = spyAcks(() => 0);
    const first = s.connector(dying, { ...s.f.config, maxBatchEvents: 40 });
    try {
      await first.start();
      for (const deadline = Date.now() + 20_000; publishes < 3; await new Promise((r) => setTimeout(r, 20)))
        assert.ok(Date.now() < deadline, 'three publishes');
    } finally {
      await first.stop();
      spy.restore();
    }
    const inLog = await published();
    const saved = await pool.query(`SELECT state FROM ${schema}.connector_state WHERE connector = $1`, [s.name]);
    const checkpoint = saved.rowCount ? lsnToNumber(saved.rows[0].state.lsn) : 0;
    const { confirmed } = await slotPositions(s.f.pool, s.f.config.slot);
    assert.ok(
      confirmed! <= Math.max(checkpoint, lsnToNumber(observed[0].lsn)),
      `the slot (${confirmed}) is not acknowledged past the checkpoint (${checkpoint})`,
    );
    assert.ok(
      spy.acks.every((a) => a.position <= Math.max(checkpoint, lsnToNumber(observed[0].lsn))),
      'no acknowledgement past the checkpoint',
    );
    // (A transaction's first change can start exactly at the previous commit's end: `>=`.)
    assert.ok(
      observed.some((c) => inLog.has(expectedId(s.f, c)) && lsnToNumber(c.lsn) >= checkpoint),
      'the third publish reached the log past the checkpoint',
    );
    assertCommitBoundaries(s.f, observed, [
      { position: checkpoint, published: inLog, what: 'checkpoint' },
      ...spy.acks.map((a, i) => ({ position: a.position, published: inLog, what: `ack #${i}` })),
    ]);

    const again = s.connector();
    await again.start();
    try {
      const want = observed.map((o) => expectedId(s.f, o));
      const all = await s.waitFor(
        (e) => want.every((id) => e.some((x) => x.id === id)),
        'every change after the restart',
      );
      assert.deepEqual([...new Set(all.map((e) => e.id))].sort(), [...want].sort(), 'nothing lost, nothing invented');
      assert.ok(all.length > want.length, 'what was published past the checkpoint came again, with the same ids');
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
    await assert.rejects(
      s.connector().start(),
      (err: unknown) =>
        err instanceof MillraceError && err.code === 'CDC_CONFIG' && /REPLICA IDENTITY FULL/.test(err.message),
    );
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
