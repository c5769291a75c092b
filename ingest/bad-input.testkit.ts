import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { migrate } from '../store/migrate.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import type { Topic } from '../log/topic.ts';
import { envelopeSchema, type Envelope } from './envelope.ts';
import type { Connector, ConnectorContext, ConnectorDefinition } from './define-connector.ts';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';

/** The classes of bad input every connector kind is fed (issue 12). */
export const BAD_INPUT_CLASSES = ['malformed', 'truncated', 'oversized', 'wrongly encoded', 'schema-drifted'] as const;
export type BadInputClass = (typeof BAD_INPUT_CLASSES)[number];

/** One bad input: written into the real store; its dead letter's position must match `position`. */
export interface BadInput {
  class: BadInputClass;
  /** What exactly is wrong (shown in the test name). */
  what: string;
  /** Write it; returns what the dead letter's position must equal or match. */
  write(): Promise<string | RegExp>;
}

/** A real source of one connector kind, fresh for the suite (as in connector.contract.ts). */
export interface BadInputSource {
  /** Write n well-formed records; returns the ids their envelopes must carry. */
  append(n: number): Promise<string[]>;
  bad: BadInput[];
  cleanup(): Promise<void>;
}

export interface BadInputAdapter {
  name: string;
  definition: ConnectorDefinition<z.ZodType>;
  setup(): Promise<{ config: unknown; source: BadInputSource }>;
  openTopic?: ConnectorContext['openTopic'];
  /** Longest wait for records and dead letters, ms. Default 30 000. */
  timeoutMs?: number;
  /**
   * What `append` returns for an event it wrote. Default: its `id`. A snapshot's ids carry the
   * content hash of the file version read, unknown while the file is being written: it names the entity.
   */
  identify?: (env: Envelope) => string;
}

/**
 * Feed a connector good records with every kind of bad input between them, all before it starts
 * (a backlog, as after an outage), then more while it runs. Nothing may crash: every good record
 * reaches the log exactly once, every bad input is a dead letter (a drifted file: one per line)
 * with a reason and its position,
 * the connector keeps no error and reads what comes after.
 */
export function badInputSuite(adapter: BadInputAdapter): void {
  describe(`bad input: ${adapter.name}`, () => {
    const pool = testPool();
    const schema = testSchemaName('bad');
    const logName = `bad_log_${randomBytes(3).toString('hex')}`;
    const name = `bad-${randomBytes(3).toString('hex')}`;
    const timeout = adapter.timeoutMs ?? 30_000;
    const identify = adapter.identify ?? ((env: Envelope) => env.id);
    let log: Topic;
    let config: unknown;
    let source: BadInputSource;
    let connector: Connector | null = null;
    const errors: string[] = [];
    const expected: string[] = [];
    const positions = new Map<BadInput, string | RegExp>();

    const logIds = async () =>
      (await pool.query(`SELECT value FROM ${schema}.records WHERE topic = $1`, [logName])).rows.map((x) =>
        identify(envelopeSchema.parse(JSON.parse(x.value))),
      );
    const deadLetters = async () =>
      (await pool.query(`SELECT position, reason, raw FROM ${schema}.dead_letters WHERE connector = $1`, [name]))
        .rows as Array<{ position: string; reason: string; raw: string }>;
    const waitUntil = async (what: string, ok: () => Promise<boolean>, detail?: () => Promise<string>) => {
      const deadline = Date.now() + timeout;
      while (!(await ok())) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out waiting for ${what}; connector errors: ${errors.slice(-3).join(' | ')}; ${(await detail?.()) ?? ''}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    before(async () => {
      await migrate(pool, schema, 2);
      log = createPostgresTopic({ pool, name: logName, partitions: 2, schema });
      await log.ensure();
      ({ config, source } = await adapter.setup());
      expected.push(...(await source.append(3)));
      for (const b of source.bad) {
        positions.set(b, await b.write());
        expected.push(...(await source.append(2)));
      }
      connector = adapter.definition.create(adapter.definition.config.parse(config), {
        name,
        pool,
        schema,
        log,
        openTopic: adapter.openTopic ?? ((n, p) => createPostgresTopic({ pool, name: n, partitions: p, schema })),
        onError: (err) => void errors.push((err as Error).message),
      });
      await connector.start();
      let missing: string[] = [];
      await waitUntil(
        'every good record in the log',
        async () => {
          const have = new Set(await logIds());
          missing = expected.filter((id) => !have.has(id));
          return missing.length === 0;
        },
        async () =>
          `missing ${missing.slice(0, 5).join(', ')}; dead letters ${JSON.stringify((await deadLetters()).map((r) => [r.position, r.reason.slice(0, 100)]))}; status ${JSON.stringify(await connector!.status())}`,
      );
      await waitUntil(
        'a dead letter per bad input',
        async () => (await deadLetters()).length >= source.bad.length,
        async () => {
          const rows = await deadLetters();
          const without = [...positions].filter(
            ([, pos]) => !rows.some((r) => (typeof pos === 'string' ? r.position === pos : pos.test(r.position))),
          );
          return `no dead letter for: ${without.map(([b, pos]) => `${b.class} (${b.what}) at ${pos}`).join('; ')}`;
        },
      );
    });
    after(async () => {
      await connector?.stop();
      await source?.cleanup();
      await log?.close();
      await dropSchema(pool, schema);
      await pool.end();
    });

    it('feeds every class of bad input', async () => {
      const classes = new Set(source.bad.map((b) => b.class));
      assert.deepEqual(
        BAD_INPUT_CLASSES.filter((c) => !classes.has(c)),
        [],
        'a class of bad input is missing',
      );
    });

    it('keeps every good record around the bad ones, exactly once', async () => {
      const ids = await logIds();
      assert.deepEqual([...new Set(ids)].sort(), [...expected].sort(), 'the good records, nothing invented');
      assert.equal(ids.length, expected.length, 'no duplicates');
    });

    it('makes each bad input one dead letter with a reason and its position', async () => {
      const rows = await deadLetters();
      for (const [b, pos] of positions) {
        const hit = rows.filter((r) => (typeof pos === 'string' ? r.position === pos : pos.test(r.position)));
        assert.ok(
          hit.length >= 1,
          `${b.class} (${b.what}): a dead letter at ${pos}; have ${JSON.stringify(rows.map((r) => [r.position, r.reason.slice(0, 80)]))}`,
        );
        assert.ok(hit[0].reason.trim().length > 0, `${b.class}: a reason`);
        assert.doesNotMatch(hit[0].reason, /\n\s+at /, `${b.class}: a reason, not a stack trace`);
      }
      const stray = rows.filter(
        (r) =>
          ![...positions.values()].some((pos) => (typeof pos === 'string' ? r.position === pos : pos.test(r.position))),
      );
      assert.deepEqual(stray, [], 'no dead letter for good input');
    });

    it('does not crash or stall: status is clean and later records still arrive', async () => {
      const st = await connector!.status();
      assert.equal(st.lastError, null, `lastError: ${st.lastError}`);
      assert.ok(st.deadLetters >= positions.size, `status counts ${st.deadLetters} dead letters`);
      const more = await source.append(2);
      await waitUntil('records written after the bad input', async () => {
        const have = new Set(await logIds());
        return more.every((id) => have.has(id));
      });
    });
  });
}
