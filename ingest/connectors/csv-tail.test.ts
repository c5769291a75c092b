import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import type { Topic } from '../../log/topic.ts';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { migrate } from '../../store/migrate.ts';
import { readState } from '../checkpoints.ts';
import type { Connector } from '../define-connector.ts';
import { csvTail } from './csv-tail.ts';
import { fileNameMatcher } from './file-tail.ts';
import { loadFloorMap } from '../../simulator/floor.ts';
import { ensureLedger } from '../../simulator/ledger.ts';
import { createEnergyCsvWriter } from '../../simulator/sources/energy-csv.ts';

const pool = testPool();
const schema = testSchemaName('csvtail');
const HEADER = 'interval_start,machine_id,wh';
const T0 = Date.UTC(2026, 2, 1);
const row = (minute: number, machine: string, wh: number) =>
  `${new Date(T0 + minute * 60_000).toISOString()},${machine},${wh}\n`;
const id = (minute: number, machine: string) => `energy:${machine}:${T0 + minute * 60_000}`;

/** Poll a condition with a deadline (never a bare sleep standing in for readiness). */
async function until(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh directory, log and connector name per test. */
async function harness(logOverride?: (log: Topic) => Topic) {
  const dir = await mkdtemp(join(tmpdir(), 'csv-tail-'));
  const log = createPostgresTopic({ pool, name: `csvtail_${randomBytes(3).toString('hex')}`, partitions: 2, schema });
  await log.ensure();
  const name = `csv-${randomBytes(3).toString('hex')}`;
  const make = (override = logOverride, directory = dir): Connector =>
    csvTail.create(csvTail.config.parse({ directory, pattern: 'energy-*.csv', schema: 'energy', pollMs: 30 }), {
      name,
      pool,
      schema,
      log: override ? override(log) : log,
      openTopic: () => {
        throw new Error('unused');
      },
      onError: () => undefined,
    });
  const published = async () =>
    (
      await pool.query(`SELECT value FROM ${schema}.records WHERE topic = $1 ORDER BY partition, "offset"`, [log.name])
    ).rows.map((r) => JSON.parse(r.value));
  const has = async (ids: string[]) => {
    const got = new Set((await published()).map((e) => e.id));
    return ids.every((x) => got.has(x));
  };
  const caughtUp = (c: Connector) => async () => {
    const st = await c.status();
    return st.positions[0] >= st.sourceEnd[0];
  };
  return {
    dir,
    log,
    name,
    make,
    published,
    has,
    caughtUp,
    cleanup: async () => {
      await log.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

before(() => migrate(pool, schema, 2));
after(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

describe('csv-tail connector', () => {
  it('follows daily rotation: a new file is read from its start, the old one to its end', async () => {
    const h = await harness();
    const c = h.make();
    await writeFile(join(h.dir, 'energy-2026-03-01.csv'), HEADER + '\n' + row(0, 'DIE-1', 75) + row(0, 'CUR-1', 400));
    await writeFile(join(h.dir, 'other.csv'), HEADER + '\n' + row(0, 'BND-1', 60));
    await c.start();
    try {
      await until('day 1', () => h.has([id(0, 'DIE-1'), id(0, 'CUR-1')]));
      await appendFile(join(h.dir, 'energy-2026-03-01.csv'), row(1, 'DIE-1', 76));
      await writeFile(join(h.dir, 'energy-2026-03-02.csv'), HEADER + '\n' + row(1440, 'DIE-1', 74));
      await until('the end of day 1 and day 2', () => h.has([id(1, 'DIE-1'), id(1440, 'DIE-1')]));
      await until('caught up', h.caughtUp(c));
      const events = await h.published();
      assert.equal(events.length, 4, 'each row once; a file not matching the pattern is ignored');
      const e = events.find((x) => x.id === id(1440, 'DIE-1'));
      assert.deepEqual(e, {
        id: id(1440, 'DIE-1'),
        source: 'csv:energy-2026-03-02.csv',
        type: 'energy.reading',
        key: 'DIE-1',
        eventTime: T0 + 1440 * 60_000,
        payload: { machineId: 'DIE-1', wh: 74 },
      });
      const st = await c.status();
      assert.equal(st.events, 4);
      assert.equal(st.lag, 0);
    } finally {
      await c.stop();
      await h.cleanup();
    }
  });

  it('a truncated-then-rewritten file is read again with the same ids: no reading counted twice', async () => {
    const h = await harness();
    const path = join(h.dir, 'energy-2026-03-01.csv');
    const content = HEADER + '\n' + [0, 1, 2].map((m) => row(m, 'BRN-1', 500 + m)).join('');
    await writeFile(path, content);
    const c = h.make();
    await c.start();
    try {
      await until('first read', h.caughtUp(c));
      await truncate(path, 0);
      await until(
        'the truncation seen',
        async () =>
          (await readState<{ files: Record<string, { offset: number }> }>(pool, schema, h.name))?.files[
            'energy-2026-03-01.csv'
          ]?.offset === 0,
      );
      await writeFile(path, content);
      await until('re-read', async () => (await h.published()).length === 6);
      await until('caught up', h.caughtUp(c));
    } finally {
      await c.stop();
    }
    const events = await h.published();
    const byId = new Map(events.map((e) => [e.id, e]));
    assert.equal(byId.size, 3, 'the re-read rows carry the ids of the first read');
    for (const e of events) assert.deepEqual(e, byId.get(e.id), 'a re-read row is the same event');
    // What the loader keeps (one row per id) sums to what the file says, once.
    assert.equal(
      [...byId.values()].reduce((n, e) => n + e.payload.wh, 0),
      500 + 501 + 502,
    );

    // Rewritten with the same content while the connector was down: nothing to re-read at all.
    await writeFile(path, content);
    const again = h.make();
    await again.start();
    try {
      await until('caught up after restart', h.caughtUp(again));
      assert.equal((await h.published()).length, 6);
      // Rewritten with other content (same size or longer): the fingerprint tells, it is read from the start.
      await writeFile(path, HEADER + '\n' + [0, 1, 2, 3].map((m) => row(m, 'CUR-1', 400 + m)).join(''));
      await until('the new content', () => h.has([0, 1, 2, 3].map((m) => id(m, 'CUR-1'))));
    } finally {
      await again.stop();
      await h.cleanup();
    }
  });

  it('a partial last line waits until its newline arrives', async () => {
    const h = await harness();
    const path = join(h.dir, 'energy-2026-03-01.csv');
    const partial = `${new Date(T0).toISOString()},CUR-1,4`;
    await writeFile(path, HEADER + '\n' + row(0, 'DIE-1', 75) + partial);
    const c = h.make();
    await c.start();
    try {
      await until('the complete line', () => h.has([id(0, 'DIE-1')]));
      await until(
        'the position at the partial line',
        async () => (await c.status()).lag === Buffer.byteLength(partial),
      );
      assert.equal(await h.has([id(0, 'CUR-1')]), false, 'nothing published from half a line');
      await appendFile(path, '21\n');
      await until('the completed line', () => h.has([id(0, 'CUR-1')]));
      const e = (await h.published()).find((x) => x.id === id(0, 'CUR-1'));
      assert.equal(e.payload.wh, 421, 'the whole line, not its first half');
      await until('caught up', h.caughtUp(c));
    } finally {
      await c.stop();
      await h.cleanup();
    }
  });

  it('crash between publish and checkpoint: the re-read publishes the same ids, dead letters stay once', async () => {
    let crashes = 0;
    const h = await harness((log) => ({
      ...log,
      name: log.name,
      partitions: log.partitions,
      publish: async (records) => {
        const res = await log.publish(records);
        if (crashes++ === 0) throw new Error('simulated crash after the log acknowledged');
        return res;
      },
    }));
    await writeFile(
      join(h.dir, 'energy-2026-03-01.csv'),
      HEADER + '\n' + row(0, 'DIE-1', 75) + 'garbage line\n' + row(0, 'DIE-2', 77),
    );
    const c = h.make();
    await c.start();
    try {
      await until('caught up', h.caughtUp(c));
    } finally {
      await c.stop();
    }
    const events = await h.published();
    assert.ok(crashes >= 2, 'the batch was published again');
    assert.deepEqual(
      events.map((e) => e.id).sort(),
      [id(0, 'DIE-1'), id(0, 'DIE-1'), id(0, 'DIE-2'), id(0, 'DIE-2')].sort(),
    );
    const dead = (
      await pool.query(`SELECT position, raw, reason FROM ${schema}.dead_letters WHERE connector = $1`, [h.name])
    ).rows;
    assert.equal(dead.length, 1);
    assert.equal(dead[0].position, 'energy-2026-03-01.csv#3');
    assert.equal(dead[0].raw, 'garbage line');
    const again = csvTail.reparse!(
      csvTail.config.parse({ directory: h.dir, pattern: '^x$', schema: 'energy' }),
      row(0, 'RCV-1', 12).trim(),
      dead[0].position,
    );
    assert.equal(
      typeof again === 'string' ? again : again.id,
      id(0, 'RCV-1'),
      'a fixed line replays with its content id',
    );
    await h.cleanup();
  });

  it('dead-letters every malformed flavour the energy writer produces', async () => {
    const h = await harness();
    const path = join(h.dir, 'energy-2026-03-01.csv');
    const bad = [
      '2026-03-01T00:00:00.000Z,DIE-1,#VALUE!',
      '2026-03-01T00:00:00.000Z,DIE-1,75.5',
      '2026-03-01T00:00:00.000Z,DIE-1,-75',
      '2026-03-01T00:00:00.000Z,DIE-1',
      '"meter DIE-1 offline',
      '2026-13-45T00:00:00.000Z,DIE-1,75',
      '2026-02-30T00:00:00.000Z,DIE-1,75',
    ];
    await writeFile(path, HEADER + '\n' + bad.map((l) => `${l}\n`).join('') + row(5, 'DIE-1', 80));
    const c = h.make();
    await c.start();
    try {
      await until('caught up', h.caughtUp(c));
    } finally {
      await c.stop();
    }
    assert.deepEqual(
      (await h.published()).map((e) => e.id),
      [id(5, 'DIE-1')],
      'a stray quote swallowed nothing',
    );
    const dead = (
      await pool.query(`SELECT position FROM ${schema}.dead_letters WHERE connector = $1 ORDER BY position`, [h.name])
    ).rows;
    assert.deepEqual(dead.map((d) => d.position).sort(), bad.map((_, i) => `energy-2026-03-01.csv#${i + 2}`).sort());
    assert.equal((await readFile(path, 'utf8')).split('\n').length, bad.length + 3);
    await h.cleanup();
  });

  it("tails the energy writer while it writes (rotation, rewrites, duplicates, garbage): the log's distinct readings equal its ledger", async () => {
    const h = await harness();
    const ledgerSchema = testSchemaName('ledger_tail');
    await ensureLedger(pool, ledgerSchema);
    const start = Date.UTC(2026, 2, 1, 23, 0);
    const writer = createEnergyCsvWriter({
      seed: 9,
      startTime: start,
      dataDir: h.dir,
      floor: loadFloorMap(),
      pool,
      ledgerSchema,
      faultRate: 1,
      log: () => undefined,
      openTopic: () => {
        throw new Error('unused');
      },
    });
    const c = h.make(undefined, join(h.dir, 'energy'));
    await c.start();
    try {
      // Written in steps while the connector polls, so rewrites land under a running tail.
      for (let t = start; t <= start + 120 * 60_000; t += 5 * 60_000) await writer.advanceTo(t);
      await until('caught up', h.caughtUp(c), 30_000);
    } finally {
      await c.stop();
    }
    const faults = writer.stats().faults;
    assert.ok(faults.truncated > 0 && faults.duplicate > 0 && faults.malformed > 0, JSON.stringify(faults));
    const distinct = new Map((await h.published()).map((e) => [`${e.eventTime}|${e.payload.machineId}`, e.payload.wh]));
    const facts = (
      await pool.query(`SELECT minute, station, value FROM ${ledgerSchema}.facts WHERE fact = 'energy_wh'`)
    ).rows;
    assert.deepEqual(distinct, new Map(facts.map((f) => [`${f.minute}|${f.station}`, Number(f.value)])));
    const dead = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.dead_letters WHERE connector = $1`, [
      h.name,
    ]);
    assert.equal(dead.rows[0].n, faults.malformed, 'each garbled line once, however often its file was re-read');
    await dropSchema(pool, ledgerSchema);
    await h.cleanup();
  });

  it('file patterns: `^…` is a regular expression, else a glob; a bad one fails with CONFIG_INVALID', () => {
    const glob = fileNameMatcher('energy-*.csv');
    assert.ok(glob.test('energy-2026-03-01.csv'));
    assert.ok(!glob.test('energy-2026-03-01.csv.tmp') && !glob.test('xenergy-1.csv'));
    assert.ok(fileNameMatcher('^energy-.*\\.csv$').test('energy-2026-03-01.csv'));
    assert.throws(() => fileNameMatcher('^energy-(.csv'), { code: 'CONFIG_INVALID' });
  });
});
