import type pg from 'pg';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { ident } from '../store/migrate.ts';
import { MillraceError } from '../lib/errors.ts';

/** Who this deployment is: the id its Postgres schema was given at first migration, and how to name it. */
export interface DeploymentIdentity {
  id: string;
  /** `prefix` + schema, for messages. */
  label: string;
}

export async function readDeploymentIdentity(
  pool: pg.Pool,
  schema: string,
  prefix: string,
): Promise<DeploymentIdentity> {
  const r = await pool.query(`SELECT id FROM ${ident(schema)}.deployment LIMIT 1`);
  if (!r.rowCount) throw new MillraceError('CONFIG', `schema ${schema} has no deployment id (run a migration first)`);
  return { id: String(r.rows[0].id), label: `prefix ${prefix}, schema ${schema}` };
}

/** Kafka client id of every client of this deployment: consumer-group members name their deployment. */
export const kafkaClientId = (prefix: string, d: DeploymentIdentity) => `${prefix}-${d.id.slice(0, 8)}`;

/**
 * Refuse to start on a consumer group that has live members of another deployment (their Kafka
 * client id carries another deployment id): they would split the partitions with us, each side
 * silently missing the other's. Members of this deployment (other roles, a restart) are fine.
 */
export async function checkConsumerGroups(opts: {
  brokers: string[];
  groups: string[];
  clientId: string;
}): Promise<void> {
  const admin = new Kafka({ clientId: opts.clientId, brokers: opts.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups(opts.groups);
    for (const g of groups) {
      const foreign = g.members.filter((m) => m.clientId !== opts.clientId);
      if (foreign.length > 0) {
        const who = foreign.map((m) => `${m.clientId}@${m.clientHost}`).join(', ');
        throw new MillraceError(
          'RESOURCE_CLASH',
          `Kafka consumer group ${g.groupId} has live members of another deployment (${who}; this one is ${opts.clientId}). ` +
            'Give each deployment its own MILLRACE_PREFIX, or stop the other one.',
        );
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Claim the Redis key prefix for this deployment (SET NX of its id); a prefix another deployment
 * claimed is a clear error, since both would write the same speed slices and offsets. Redis lost
 * (flushed, restarted without persistence): the claim is simply made again.
 */
export async function claimRedisPrefix(opts: {
  url: string;
  key: string;
  identity: DeploymentIdentity;
}): Promise<void> {
  const redis = new Redis(opts.url, { maxRetriesPerRequest: 3, lazyConnect: true });
  try {
    await redis.connect();
    const value = JSON.stringify({ id: opts.identity.id, label: opts.identity.label });
    const set = await redis.set(opts.key, value, 'NX');
    if (set === 'OK') return;
    const held = await redis.get(opts.key);
    const owner = held ? (JSON.parse(held) as { id?: string; label?: string }) : null;
    if (owner?.id === opts.identity.id) return;
    throw new MillraceError(
      'RESOURCE_CLASH',
      `Redis keys ${opts.key.replace(/:deployment$/, ':*')} belong to another deployment (${owner?.label ?? held}, id ${owner?.id}); this one is ${opts.identity.label}. ` +
        `Give each deployment its own MILLRACE_PREFIX; if that deployment is gone for good, DEL ${opts.key} and its keys.`,
    );
  } finally {
    redis.disconnect();
  }
}
