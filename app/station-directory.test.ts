import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { migrate } from '../store/migrate.ts';
import { createServing } from '../serving/create-serving.ts';
import { createMemoryStore } from '../speed/memory-store.ts';
import { allMetrics } from '../metrics/index.ts';
import { createStationDirectory } from './station-directory.ts';

const pool = testPool();
const schema = testSchemaName('stations');

async function upsert(key: string, data: unknown, deleted = false) {
  await pool.query(
    `INSERT INTO ${schema}.entities (entity, key, version, data, deleted, event_id) VALUES ('station', $1, '1', $2, $3, $1)
     ON CONFLICT (entity, key) DO UPDATE SET data = EXCLUDED.data, deleted = EXCLUDED.deleted`,
    [key, JSON.stringify(data), deleted],
  );
}

describe('station directory', () => {
  before(() => migrate(pool, schema, 1));
  after(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('lists the ingested stations in flow order, without deleted ones, and learns new ones on the next read', async () => {
    const serving = createServing({ pool, schema, store: createMemoryStore(), metrics: allMetrics, partitions: 1, slice: 500 });
    const floor = createStationDirectory({ serving, maxAgeMs: 0 });
    assert.deepEqual((await floor()).stations, [], 'nothing ingested yet: no stations (not the simulator\'s file)');
    await upsert('TST', { id: 'TST', name: 'Test', zone: 'Z4', department: 'Test', x: 1, y: 2, flowIndex: 1 });
    await upsert('MNT', { id: 'MNT', name: 'Maintenance', zone: 'Z6', department: 'Maintenance', x: 3, y: 4, flowIndex: null });
    await upsert('RCV', { id: 'RCV', name: 'Receiving', zone: 'Z1', department: 'Logistics', x: '5', y: '6', flowIndex: 0 });
    await upsert('OLD', { id: 'OLD', name: 'Gone', zone: 'Z1', department: 'Logistics', x: 0, y: 0, flowIndex: 2 }, true);
    const stations = (await floor()).stations;
    assert.deepEqual(stations.map((s) => s.id), ['RCV', 'TST', 'MNT']);
    assert.deepEqual([stations[0].x, stations[0].y], [5, 6], 'numbers from text sources become numbers');
    assert.equal(stations[1].name, 'Test');
  });

  it('reuses a read for maxAgeMs, so requests do not each query the database', async () => {
    const serving = createServing({ pool, schema, store: createMemoryStore(), metrics: allMetrics, partitions: 1, slice: 500 });
    let reads = 0;
    const counting = { ...serving, entities: (q: Parameters<typeof serving.entities>[0]) => ((reads += 1), serving.entities(q)) };
    const floor = createStationDirectory({ serving: counting, maxAgeMs: 60_000 });
    const [a, b] = await Promise.all([floor(), floor()]);
    await floor();
    assert.equal(reads, 1, 'one read shared by concurrent callers and reused after');
    assert.equal(a, b);
  });
});
