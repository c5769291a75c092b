import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import { migrate } from '../../store/migrate.ts';
import { envelopeSchema, type Envelope } from '../../ingest/envelope.ts';
import { postgresCdc } from '../../ingest/connectors/postgres-cdc.ts';
import { dropSlot } from '../../ingest/connectors/postgres-cdc.testkit.ts';
import { TEST_DATABASE_URL } from '../../lib/test-db.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger.ts';
import { floorMinute } from '../ledger-facts.ts';
import { sourceSeal } from '../ledger-sources.ts';
import { createOrdersWriter, ensureOrdersTable, ORDERS_SOURCE } from './orders-postgres.ts';
import type { WriterContext } from './source-writer.ts';

const pool = testPool();
const floor = loadFloorMap();
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5, 6, 7, 11);
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await pool.end();
});

async function context(seed: number) {
  const ledgerSchema = testSchemaName('ledger_orders');
  const ordersSchema = testSchemaName('orders');
  await ensureLedger(pool, ledgerSchema);
  cleanups.push(
    () => dropSchema(pool, ledgerSchema),
    () => dropSchema(pool, ordersSchema),
  );
  const ctx: WriterContext & { ordersSchema: string } = {
    seed,
    startTime: START,
    dataDir: '/nonexistent',
    floor,
    pool,
    ledgerSchema,
    ordersSchema,
    faultRate: 1,
    log: () => undefined,
    openTopic: () => {
      throw new Error('the orders writer opens no topic');
    },
  };
  return ctx;
}

const table = async (schema: string) => (await pool.query(`SELECT * FROM ${schema}.orders ORDER BY order_id`)).rows;
const facts = async (ledger: string) =>
  (
    await pool.query(
      `SELECT fact, minute::bigint::float8 AS minute, station, error_code, value::float8 AS value FROM ${ledger}.facts ORDER BY fact, minute, station, error_code`,
    )
  ).rows;
const faults = async (ledger: string) =>
  (await pool.query(`SELECT kind, detail, event_id, event_at::text FROM ${ledger}.faults ORDER BY id`)).rows;

/** Facts as rows `fact|minute|dim1|dim2 → value`, from any list of contributions. */
function tally(items: Array<[fact: string, at: number, d1: string, d2: string, value: number]>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [fact, t, d1, d2, v] of items) {
    const k = `${fact}|${floorMinute(t)}|${d1}|${d2}`;
    m.set(k, (m.get(k) ?? 0) + v);
  }
  return m;
}

describe('orders writer (PostgreSQL)', () => {
  it('is deterministic for a seed however advanceTo is paced; faults and seal recorded', async () => {
    const a = await context(11);
    const b = await context(11);
    const c = await context(12);
    const end = START + 6 * DAY;
    const wa = createOrdersWriter(a);
    await wa.advanceTo(end);
    const wb = createOrdersWriter({ ...b, maxBatch: 7 });
    for (let t = START, i = 0; t < end; i++)
      await wb.advanceTo((t = Math.min(end, t + ((i * 7_919_000) % (9 * 3_600_000)) + 60_000)));
    await wb.advanceTo(end); // idempotent for a time already reached
    const wc = createOrdersWriter(c);
    await wc.advanceTo(end);
    const rows = await table(a.ordersSchema);
    assert.ok(rows.length > 30, `orders written: ${rows.length}`);
    assert.deepEqual(await table(b.ordersSchema), rows);
    assert.deepEqual(await facts(b.ledgerSchema), await facts(a.ledgerSchema));
    assert.deepEqual(await faults(b.ledgerSchema), await faults(a.ledgerSchema));
    assert.notDeepEqual(await table(c.ordersSchema), rows, 'another seed, other orders');
    const st = wa.stats();
    assert.ok(st.written > 6 * 35 && st.written < 6 * 65, `about 50 changes a day: ${st.written}`);
    assert.ok((st.faults.note_only_update ?? 0) > 0 && (st.faults.deleted ?? 0) > 0, JSON.stringify(st.faults));
    assert.ok(
      rows.some((r) => r.kind === 'repair' && r.status === 'completed') &&
        rows.some((r) => r.kind === 'purchase' && r.status === 'received'),
    );
    assert.equal(await sourceSeal(pool, a.ledgerSchema, ORDERS_SOURCE), floorMinute(end));
    const ident = await pool.query(
      `SELECT relreplident FROM pg_class WHERE oid = '${a.ordersSchema}.orders'::regclass`,
    );
    assert.equal(ident.rows[0].relreplident, 'f', 'REPLICA IDENTITY FULL');
    await Promise.all([wa.close(), wb.close(), wc.close()]);
  });

  it('ledger facts equal a recomputation from the final table plus the change history the CDC connector saw', async () => {
    const ctx = await context(5);
    await ensureOrdersTable(pool, ctx.ordersSchema); // the slot must exist before the first row is written
    const schema = testSchemaName('orders_pipe');
    await migrate(pool, schema, 1);
    cleanups.push(() => dropSchema(pool, schema));
    const log = createPostgresTopic({ pool, name: 'orders_log', partitions: 1, schema });
    await log.ensure();
    const hex = randomBytes(4).toString('hex');
    const config = {
      connectionString: TEST_DATABASE_URL,
      slot: `ord_${hex}`,
      publication: `ord_${hex}`,
      tables: [`${ctx.ordersSchema}.orders`],
    };
    cleanups.push(
      () => dropSlot(pool, config.slot),
      async () => void (await pool.query(`DROP PUBLICATION IF EXISTS ord_${hex}`)),
    );
    const connector = postgresCdc.create(postgresCdc.config.parse(config), {
      name: `orders-${hex}`,
      pool,
      schema,
      log,
      openTopic: () => log,
      onError: () => undefined,
    });
    await connector.start();
    const end = START + 5 * DAY;
    try {
      const w = createOrdersWriter(ctx);
      for (let t = START; t < end;) await w.advanceTo((t = Math.min(end, t + 5 * 3_600_000)));
      await w.close();
      for (const deadline = Date.now() + 30_000; ;) {
        const st = await connector.status();
        if (st.positions[0] >= st.sourceEnd[0]) break;
        assert.ok(Date.now() < deadline, `connector caught up: ${JSON.stringify(st)}`);
      }
    } finally {
      await connector.stop();
    }
    const envelopes: Envelope[] = (
      await pool.query(`SELECT value FROM ${schema}.records WHERE topic = 'orders_log' ORDER BY "offset"`)
    ).rows.map((r) => envelopeSchema.parse(JSON.parse(r.value)));
    const unique = [...new Map(envelopes.map((e) => [e.id, e])).values()];
    const expected = tally(
      (await facts(ctx.ledgerSchema)).map((f) => [f.fact, f.minute, f.station, f.error_code, f.value]),
    );

    // 1. From the change history alone, with the connector's flags and event times.
    const fromChanges = tally(
      unique.flatMap((e) => {
        const p = e.payload as Record<string, unknown>;
        const sev = (p.severity as string | null) ?? '';
        const out: Array<[string, number, string, string, number]> = [];
        if (p.becameCreated === 'yes') out.push(['orders_created', e.eventTime, p.kind as string, sev, 1]);
        if (p.becameCompleted === 'yes')
          out.push(
            ['repairs_completed', e.eventTime, sev, '', 1],
            ['repair_duration_ms', e.eventTime, sev, '', p.durationMs as number],
          );
        return out;
      }),
    );
    assert.deepEqual(fromChanges, expected);

    // 2. From the final table plus the rows the history saw deleted (their before images).
    const final = (await table(ctx.ordersSchema)).map((r) => ({
      ...r,
      requested_at: r.requested_at.getTime(),
      completed_at: r.completed_at?.getTime() ?? null,
    }));
    const deleted = unique
      .filter((e) => e.payload.op === 'delete')
      .map((e) => e.payload.before as Record<string, unknown>);
    assert.ok(deleted.length > 0, 'the run deleted some orders');
    const everyOrder = [...final, ...deleted] as Array<Record<string, unknown>>;
    assert.equal(new Set(everyOrder.map((r) => r.order_id)).size, everyOrder.length);
    const fromState = tally(
      everyOrder.flatMap((r) => {
        const sev = r.severity === null ? '' : String(r.severity);
        const out: Array<[string, number, string, string, number]> = [
          ['orders_created', r.requested_at as number, r.kind as string, sev, 1],
        ];
        if (r.kind === 'repair' && r.status === 'completed') {
          const done = r.completed_at as number;
          out.push(
            ['repairs_completed', done, sev, '', 1],
            ['repair_duration_ms', done, sev, '', done - (r.requested_at as number)],
          );
        }
        return out;
      }),
    );
    assert.deepEqual(fromState, expected);
    assert.ok(
      [...expected.keys()].some((k) => k.startsWith('repairs_completed|')),
      'some repairs completed',
    );
  });
});
