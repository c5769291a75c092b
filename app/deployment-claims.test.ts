import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { checkConsumerGroups, claimRedisPrefix, kafkaClientId, readDeploymentIdentity } from './deployment-claims.ts';
import { deploymentNames } from './deployment-names.ts';
import { loadConfig } from './config.ts';
import { migrate } from '../store/migrate.ts';
import { createKafkaTopic } from '../log/kafka-topic.ts';
import { prepareCdc } from '../ingest/connectors/postgres-cdc-setup.ts';
import { waitFor } from '../log/topic.contract.ts';
import { dropSchema, testPool, testSchemaName, TEST_DATABASE_URL } from '../lib/test-db.ts';

// Two deployments on one Kafka, one Postgres server, one Redis: each shared resource is named from
// MILLRACE_PREFIX, and a clash with another deployment's live resource is an error naming it.
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const run = randomBytes(3).toString('hex');
const pool = testPool();
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await pool.end();
});

describe('deployment names', () => {
  it('derive every shared name from MILLRACE_PREFIX', () => {
    const n = deploymentNames(loadConfig({ MILLRACE_PREFIX: 'Plant-2' }));
    assert.equal(n.logTopic, 'Plant-2.log');
    assert.equal(n.loaderGroup, 'Plant-2-loader');
    assert.equal(n.connectorGroup('machining'), 'Plant-2-connector-machining');
    assert.equal(n.cdcSlot, 'plant_2_orders', 'slot names allow [a-z0-9_] only');
    assert.equal(n.cdcPublication, 'plant_2_orders_pub');
    assert.equal(n.redisClaimKey, '{Plant-2}:deployment');
    assert.equal(
      deploymentNames(loadConfig({})).loaderGroup,
      'millrace-loader',
      'the default prefix keeps the old names',
    );
    assert.equal(deploymentNames(loadConfig({ CDC_SLOT: 'my_slot' })).cdcSlot, 'my_slot');
  });
});

describe('deployment claims', () => {
  it('every schema has one deployment id, the same for each role that migrates it', async () => {
    const schema = testSchemaName('claim');
    cleanups.push(() => dropSchema(pool, schema));
    await migrate(pool, schema, 2);
    const a = await readDeploymentIdentity(pool, schema, 'p');
    await migrate(pool, schema, 2);
    assert.equal((await readDeploymentIdentity(pool, schema, 'p')).id, a.id);
    assert.match(a.id, /^[0-9a-f-]{36}$/);
  });

  it('Redis: a prefix claimed by another deployment is refused, naming it; the owner may claim again', async () => {
    const key = `{claim-${run}}:deployment`;
    const redis = new Redis(redisUrl);
    cleanups.push(async () => {
      await redis.del(key);
      redis.disconnect();
    });
    const a = { id: `a-${run}`, label: 'prefix claim, schema one' };
    const b = { id: `b-${run}`, label: 'prefix claim, schema two' };
    await claimRedisPrefix({ url: redisUrl, key, identity: a });
    await claimRedisPrefix({ url: redisUrl, key, identity: a });
    await assert.rejects(
      claimRedisPrefix({ url: redisUrl, key, identity: b }),
      (err: Error & { code?: string }) =>
        err.code === 'RESOURCE_CLASH' && err.message.includes('schema one') && err.message.includes('schema two'),
    );
    // Redis lost its data (flushed): the next start claims afresh.
    await redis.del(key);
    await claimRedisPrefix({ url: redisUrl, key, identity: b });
  });

  it('Kafka: a consumer group with live members of another deployment is refused, naming the group and member', async () => {
    const mine = kafkaClientId('k', { id: `11111111-${run}`, label: '' });
    const theirs = kafkaClientId('k', { id: `22222222-${run}`, label: '' });
    const group = `claim-${run}-loader`;
    const topic = createKafkaTopic({ brokers, name: `claim-${run}`, partitions: 1, clientId: theirs });
    cleanups.push(async () => {
      await topic.close();
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic.name] }).catch(() => undefined);
      await admin.disconnect();
    });
    await topic.ensure();
    const sub = await topic.consume({ group, startOffset: async () => 0, onBatch: async () => undefined });
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await waitFor(
      'the other deployment to join its group',
      async () => (await admin.describeGroups([group])).groups[0].members.length > 0,
    );
    await admin.disconnect();
    await assert.rejects(
      checkConsumerGroups({ brokers, groups: [group], clientId: mine }),
      (err: Error & { code?: string }) =>
        err.code === 'RESOURCE_CLASH' && err.message.includes(group) && err.message.includes(theirs),
    );
    await checkConsumerGroups({ brokers, groups: [group], clientId: theirs });
    await sub.stop();
    await checkConsumerGroups({ brokers, groups: [group, `claim-${run}-never-used`], clientId: mine });
  });

  it('Postgres: a CDC slot of the same name in another database is refused, naming that database', async () => {
    const db = `claim_${run}`;
    const slot = `claim_${run}_orders`;
    await pool.query(`CREATE DATABASE ${db}`);
    const other = new pg.Pool({ connectionString: TEST_DATABASE_URL.replace(/\/[^/]*$/, `/${db}`), max: 1 });
    cleanups.push(async () => {
      await other.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch(() => undefined);
      await other.end();
      await pool.query(`DROP DATABASE IF EXISTS ${db}`);
    });
    await other.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    const schema = testSchemaName('claim_cdc');
    cleanups.push(() => dropSchema(pool, schema));
    await pool.query(
      `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.orders (id text PRIMARY KEY); ALTER TABLE ${schema}.orders REPLICA IDENTITY FULL`,
    );
    cleanups.push(() => pool.query(`DROP PUBLICATION IF EXISTS ${slot}_pub`));
    await assert.rejects(
      prepareCdc(pool, { slot, publication: `${slot}_pub`, tables: [`${schema}.orders`], checkpointedLsn: null }),
      (err: Error & { code?: string }) =>
        err.code === 'RESOURCE_CLASH' &&
        err.message.includes(`belongs to database ${db}`) &&
        err.message.includes('MILLRACE_PREFIX'),
    );
  });
});
