import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { migrate } from '../store/migrate.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import type { Topic } from '../log/topic.ts';
import { envelopeSchema } from './envelope.ts';
import type { Connector, ConnectorContext } from './define-connector.ts';
import { connectorKinds } from './registry.ts';
import type { ConnectorDefinition } from './define-connector.ts';
import type { z } from 'zod';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';

/** A real source of one connector kind, made fresh for the suite. */
export interface ContractSource {
  /** Write n new well-formed records into the real store; returns the ids their envelopes must carry. */
  append(n: number): Promise<string[]>;
  /** Write one malformed record; returns what its dead letter's position must match. */
  appendMalformed(): Promise<string | RegExp>;
  /** Remove what setup created. */
  cleanup(): Promise<void>;
}

export interface ContractAdapter {
  /** Shown in the suite's name. */
  name: string;
  /** The connector kind (the definition itself, so a kind not yet in the registry can be tested). */
  definition: ConnectorDefinition<z.ZodType>;
  /** Make a fresh, isolated source and the connector config that reads it. */
  setup(): Promise<{ config: unknown; source: ContractSource }>;
  /** How the connector opens source topics (the `kafka` kind). Default: Postgres table topics. */
  openTopic?: ConnectorContext['openTopic'];
  /** Longest the suite waits for records to arrive in the log, ms. Default 30 000. */
  timeoutMs?: number;
}

/** Every record in the log (all partitions), parsed. */
async function logIds(pool: pg.Pool, schema: string, log: string): Promise<string[]> {
  const r = await pool.query(`SELECT value FROM ${schema}.records WHERE topic = $1`, [log]);
  return r.rows.map((x) => {
    const env = envelopeSchema.parse(JSON.parse(x.value));
    return env.id;
  });
}

/**
 * The one contract every connector kind passes (STYLE.md: Kysely's one suite over every dialect):
 * deterministic ids, at-least-once across a crash between publish and checkpoint, dead letters
 * that stop nothing, resumption after a clean stop, and a status that reports what happened.
 */
export function connectorContract(adapter: ContractAdapter): void {
  describe(`connector contract: ${adapter.name}`, () => {
    const pool = testPool();
    const schema = testSchemaName('conn');
    const logName = `contract_log_${randomBytes(3).toString('hex')}`;
    let log: Topic;
    let config: unknown;
    let source: ContractSource;
    const expected = new Set<string>();
    const timeout = adapter.timeoutMs ?? 30_000;
    const name = `contract-${randomBytes(3).toString('hex')}`;

    const ctx = (logOverride?: Topic): ConnectorContext => ({
      name,
      pool,
      schema,
      log: logOverride ?? log,
      openTopic: adapter.openTopic ?? ((n, p) => createPostgresTopic({ pool, name: n, partitions: p, schema })),
      onError: () => undefined,
    });
    const create = (logOverride?: Topic): Connector =>
      adapter.definition.create(adapter.definition.config.parse(config), ctx(logOverride));
    const waitForIds = async (want: Set<string>) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        const have = new Set(await logIds(pool, schema, logName));
        const missing = [...want].filter((id) => !have.has(id));
        if (missing.length === 0) return;
        if (Date.now() > deadline)
          throw new Error(`${missing.length} ids never reached the log, e.g. ${missing.slice(0, 3).join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const waitCaughtUp = async (c: Connector) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        const st = await c.status();
        if (st.lag === 0 && st.positions.every((p, i) => p >= (st.sourceEnd[i] ?? 0))) return;
        if (Date.now() > deadline) throw new Error(`lag never reached 0: ${JSON.stringify(st)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    before(async () => {
      await migrate(pool, schema, 2);
      log = createPostgresTopic({ pool, name: logName, partitions: 2, schema });
      await log.ensure();
      ({ config, source } = await adapter.setup());
    });
    after(async () => {
      await source?.cleanup();
      await log?.close();
      await dropSchema(pool, schema);
      await pool.end();
    });

    it('publishes every record once, as a valid envelope with its deterministic id', async () => {
      for (const id of await source.append(5)) expected.add(id);
      const c = create();
      await c.start();
      try {
        await waitForIds(expected);
      } finally {
        await c.stop();
      }
      const ids = await logIds(pool, schema, logName);
      assert.deepEqual([...new Set(ids)].sort(), [...expected].sort());
      assert.equal(ids.length, expected.size, 'no duplicates without a crash');
    });

    it('resumes after a clean stop without re-publishing', async () => {
      for (const id of await source.append(3)) expected.add(id);
      const c = create();
      await c.start();
      try {
        await waitForIds(expected);
      } finally {
        await c.stop();
      }
      const ids = await logIds(pool, schema, logName);
      assert.equal(ids.length, expected.size);
    });

    it('loses nothing when killed between publish and checkpoint; a re-published record keeps its id', async () => {
      for (const id of await source.append(4)) expected.add(id);
      // A log that acknowledges the first publish and then "crashes" the connector.
      let crashed = false;
      const crashingLog: Topic = {
        ...log,
        name: log.name,
        partitions: log.partitions,
        publish: async (records) => {
          const res = await log.publish(records);
          if (!crashed) {
            crashed = true;
            throw new Error('simulated crash after the log acknowledged');
          }
          return res;
        },
      };
      const first = create(crashingLog);
      await first.start();
      const deadline = Date.now() + timeout;
      while (!crashed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await first.stop();
      assert.ok(crashed, 'the connector published something');
      const again = create();
      await again.start();
      try {
        await waitForIds(expected);
        await waitCaughtUp(again);
      } finally {
        await again.stop();
      }
      const ids = await logIds(pool, schema, logName);
      assert.deepEqual([...new Set(ids)].sort(), [...expected].sort(), 'same ids, nothing invented');
      assert.ok(ids.length > expected.size, 'the batch whose checkpoint was lost was published again');
    });

    it('dead-letters a malformed record with reason and position, and keeps going', async () => {
      const position = await source.appendMalformed();
      for (const id of await source.append(2)) expected.add(id);
      const c = create();
      await c.start();
      try {
        await waitForIds(expected);
        const deadline = Date.now() + timeout;
        let rows: Array<{ position: string; reason: string; raw: string }> = [];
        for (;;) {
          rows = (
            await pool.query(`SELECT position, reason, raw FROM ${schema}.dead_letters WHERE connector = $1`, [name])
          ).rows;
          if (rows.length > 0 || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(
          rows.some((r) => (typeof position === 'string' ? r.position === position : position.test(r.position))),
          `a dead letter at ${position}: ${JSON.stringify(rows)}`,
        );
        assert.ok(rows.every((r) => r.reason.length > 0));
        const st = await c.status();
        assert.ok(st.deadLetters >= 1, 'status counts dead letters');
        assert.ok(st.events >= 1, 'status counts events');
        assert.equal(st.kind, adapter.definition.kind);
      } finally {
        await c.stop();
      }
    });

    it('reports zero lag once it has read everything', async () => {
      const c = create();
      await c.start();
      try {
        await waitCaughtUp(c);
      } finally {
        await c.stop();
      }
    });
  });
}

export { connectorKinds };
