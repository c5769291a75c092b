import type { Config } from './config.ts';

/**
 * Every name this deployment gives a resource it may share with other deployments (one Kafka, one
 * Postgres cluster, one Redis), derived from MILLRACE_PREFIX, so that one variable keeps two
 * deployments apart. Postgres tables live in MILLRACE_SCHEMA (table topics included); the
 * simulator's plant resources (MACHINING_TOPIC, HEAT_TOPIC, ORDERS_SCHEMA, LEDGER_SCHEMA) are the
 * plant's names, configured on their own.
 */
export function deploymentNames(c: Pick<Config, 'MILLRACE_PREFIX' | 'CDC_SLOT'>) {
  const prefix = c.MILLRACE_PREFIX;
  // Replication slot names allow [a-z0-9_] only, and are unique across the whole Postgres cluster.
  const slot = c.CDC_SLOT ?? `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_orders`;
  return {
    prefix,
    logTopic: `${prefix}.log`,
    loaderGroup: `${prefix}-loader`,
    /** Consumer group of a Kafka source connector (kafka-source.ts builds it from the prefix). */
    connectorGroup: (connector: string) => `${prefix}-connector-${connector}`,
    cdcSlot: slot,
    cdcPublication: `${slot}_pub`,
    redisPrefix: prefix,
    /** The Redis key that records which deployment owns `redisPrefix`. */
    redisClaimKey: `{${prefix}}:deployment`,
  };
}

export type DeploymentNames = ReturnType<typeof deploymentNames>;
