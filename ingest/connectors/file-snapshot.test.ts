import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { migrate } from '../../store/migrate.ts';
import { loadFloorMap } from '../../simulator/floor.ts';
import { ensureLedger } from '../../simulator/ledger.ts';
import {
  createReferenceFilesWriter,
  FLOOR_MAP_FILE,
  TOOL_MASTER_FILE,
} from '../../simulator/sources/reference-files.ts';
import type { Connector } from '../define-connector.ts';
import { fileSnapshot } from './file-snapshot.ts';

const pool = testPool();
const schema = testSchemaName('filesnap');
const hash16 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

async function until(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One connector over `config`, a fresh log; `published()` is every envelope in the log. */
async function harness(config: Record<string, unknown>) {
  const log = createPostgresTopic({ pool, name: `filesnap_${randomBytes(3).toString('hex')}`, partitions: 2, schema });
  await log.ensure();
  const name = `snap-${randomBytes(3).toString('hex')}`;
  const c: Connector = fileSnapshot.create(fileSnapshot.config.parse({ pollMs: 30, ...config }), {
    name,
    pool,
    schema,
    log,
    openTopic: () => {
      throw new Error('unused');
    },
    onError: () => undefined,
  });
  const published = async () =>
    (await pool.query(`SELECT value FROM ${schema}.records WHERE topic = $1 ORDER BY "offset"`, [log.name])).rows.map(
      (r) => JSON.parse(r.value),
    );
  const dead = async () =>
    (await pool.query(`SELECT position, reason FROM ${schema}.dead_letters WHERE connector = $1 ORDER BY id`, [name]))
      .rows;
  const caughtUp = async () => {
    const st = await c.status();
    return st.positions[0] >= st.sourceEnd[0];
  };
  return { c, name, published, dead, caughtUp, close: () => log.close() };
}

let dir = '';
before(async () => {
  await migrate(pool, schema, 2);
  dir = await mkdtemp(join(tmpdir(), 'file-snapshot-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await dropSchema(pool, schema);
  await pool.end();
});

describe('file-snapshot connector', () => {
  it('JSON records at recordsPath: upserts per version, deletes for vanished keys, nothing for a touch', async () => {
    const path = join(dir, 'floor.json');
    const v1 = JSON.stringify({
      stations: [
        { id: 'DIE', zone: 'Z2' },
        { id: 'BND', zone: 'Z2' },
        { id: 'CUR', zone: 'Z3' },
      ],
    });
    await writeFile(path, v1);
    await utimes(path, 1_700_000_000, 1_700_000_000);
    const h = await harness({ path, format: 'json', entity: 'station', keyField: 'id', recordsPath: 'stations' });
    await h.c.start();
    try {
      await until('version 1', async () => (await h.published()).length === 3);
      const first = (await h.published()).find((e) => e.key === 'station:DIE');
      assert.deepEqual(first, {
        id: `file:station:DIE:${hash16(v1)}`,
        source: 'file:floor.json',
        type: 'entity.upsert',
        key: 'station:DIE',
        eventTime: 1_700_000_000_000,
        payload: {
          entity: 'station',
          key: 'DIE',
          version: `1700000000000:${hash16(v1)}`,
          data: { id: 'DIE', zone: 'Z2' },
        },
      });
      const v2 = JSON.stringify({
        stations: [
          { id: 'DIE', zone: 'Z2' },
          { id: 'CUR', zone: 'Z4' },
        ],
      });
      // Content and mtime land together (written beside, renamed), so the version's mtime is known.
      await writeFile(`${path}.tmp`, v2);
      await utimes(`${path}.tmp`, 1_700_000_100, 1_700_000_100);
      await rename(`${path}.tmp`, path);
      await until('version 2', async () => (await h.published()).length === 6);
      const v2events = (await h.published()).slice(3);
      assert.deepEqual(v2events.map((e) => `${e.type} ${e.key}`).sort(), [
        'entity.delete station:BND',
        'entity.upsert station:CUR',
        'entity.upsert station:DIE',
      ]);
      assert.ok(
        v2events.every((e) => e.payload.version === `1700000100000:${hash16(v2)}` && e.id.endsWith(hash16(v2))),
      );
      assert.equal(v2events.find((e) => e.type === 'entity.delete').payload.data, null);
      // A touch changes the mtime only: same content, same hash, nothing to emit.
      await utimes(path, 1_700_000_200, 1_700_000_200);
      await until('caught up', h.caughtUp);
      assert.equal((await h.published()).length, 6);
    } finally {
      await h.c.stop();
      await h.close();
    }
  });

  it('an unparsable version is dead-lettered once, and the next good version is read', async () => {
    const path = join(dir, 'tools.csv');
    await writeFile(path, 'tool_id,type\nT-1,"unterminated\n');
    const h = await harness({ path, format: 'csv', entity: 'tool', keyField: 'tool_id' });
    await h.c.start();
    try {
      await until('the dead letter', async () => (await h.dead()).length === 1);
      const bad = await h.dead();
      assert.equal(bad[0].position, `${path}@${hash16('tool_id,type\nT-1,"unterminated\n')}`);
      assert.match(bad[0].reason, /unparsable CSV/);
      await until('caught up on the bad version', h.caughtUp);
      // Keyless and duplicate-key records are dead letters of their own; the rest is emitted.
      const good = 'tool_id,type\nT-1,collet\n,capillary\nT-2,socket\nT-1,lens\n';
      await writeFile(path, good);
      await until('the good version', async () => (await h.published()).length === 2);
      assert.deepEqual(
        (await h.published()).map((e) => e.payload.data),
        [
          { tool_id: 'T-1', type: 'collet' },
          { tool_id: 'T-2', type: 'socket' },
        ],
      );
      await until('its dead letters', async () => (await h.dead()).length === 3);
      assert.deepEqual(
        (await h.dead()).slice(1).map((d) => d.position),
        [`${path}@${hash16(good)}#1`, `${path}@${hash16(good)}#3`],
      );
      assert.equal((await h.c.status()).deadLetters, 3, 'the bad version was not dead-lettered again on later polls');
    } finally {
      await h.c.stop();
      await h.close();
    }
  });

  it("reads the reference writer's files into exactly the entities its ledger records", async () => {
    const ledgerSchema = testSchemaName('ledger_snap');
    await ensureLedger(pool, ledgerSchema);
    const dataDir = join(dir, 'factory');
    const floor = loadFloorMap();
    await createReferenceFilesWriter({
      seed: 3,
      startTime: 0,
      dataDir,
      floor,
      pool,
      ledgerSchema,
      faultRate: 1,
      log: () => undefined,
      openTopic: () => {
        throw new Error('unused');
      },
    }).advanceTo(0);
    const tools = await harness({
      path: join(dataDir, TOOL_MASTER_FILE),
      format: 'csv',
      entity: 'tool',
      keyField: 'tool_id',
    });
    const stations = await harness({
      path: join(dataDir, FLOOR_MAP_FILE),
      format: 'json',
      entity: 'station',
      keyField: 'id',
      recordsPath: 'stations',
    });
    try {
      for (const h of [tools, stations]) await h.c.start();
      await until('both files', async () => (await tools.caughtUp()) && (await stations.caughtUp()));
      const emitted = [...(await tools.published()), ...(await stations.published())];
      assert.equal(emitted.length, 40 + floor.stations.length);
      const byKey = (a: { entity: string; key: string }, b: { entity: string; key: string }) =>
        `${a.entity}:${a.key}` < `${b.entity}:${b.key}` ? -1 : 1;
      const ledger = (await pool.query(`SELECT entity, key, data FROM ${ledgerSchema}.entities`)).rows.sort(byKey);
      const fromLog = emitted
        .map((e) => ({ entity: e.payload.entity, key: e.payload.key, data: e.payload.data }))
        .sort(byKey);
      assert.deepEqual(fromLog, ledger);
      assert.equal(emitted[0].eventTime, Math.floor((await stat(join(dataDir, TOOL_MASTER_FILE))).mtimeMs));
    } finally {
      for (const h of [tools, stations]) {
        await h.c.stop();
        await h.close();
      }
      await dropSchema(pool, ledgerSchema);
    }
  });
});
