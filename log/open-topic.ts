import type pg from 'pg';
import { createKafkaTopic } from './kafka-topic.ts';
import { createPostgresTopic } from './postgres-topic.ts';
import type { Topic } from './topic.ts';

/**
 * Where topics live, as plain data: it crosses a worker thread's boundary (structured clone),
 * where a `Topic` or an `open` function cannot. `app/modules.ts` derives it from the config.
 */
export type TopicSpec =
  | {
      kind: 'kafka';
      /** Bootstrap brokers, e.g. `['127.0.0.1:9092']`. */
      brokers: string[];
      /** Kafka client id. Default `'millrace'` (createKafkaTopic's). */
      clientId?: string;
      /** Consumer-group session timeout, ms. Default 30 000 (createKafkaTopic's). */
      sessionTimeoutMs?: number;
    }
  | {
      /** Postgres table topics (embedded mode). */
      kind: 'postgres';
      /** Schema holding the topics' tables. */
      schema: string;
    };

/** Kafka names allow more than table topics' keys do; anything else becomes `_`. */
const postgresTopicName = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * The `open(name, partitions)` of a spec.
 * @param pool Postgres of the table topics (never ended by them); unused for Kafka.
 * @param log Where topic diagnostics go, prefixed `topic <name>: `. Default: each implementation's
 *   own (`console.warn`).
 */
export function openTopicFromSpec(
  spec: TopicSpec,
  pool: pg.Pool,
  log?: (line: string) => void,
): (name: string, partitions: number) => Topic {
  const logFor = (name: string) => (log ? (line: string) => log(`topic ${name}: ${line}`) : undefined);
  return (name, partitions) =>
    spec.kind === 'kafka'
      ? createKafkaTopic({
          brokers: spec.brokers,
          name,
          partitions,
          clientId: spec.clientId,
          sessionTimeoutMs: spec.sessionTimeoutMs,
          log: logFor(name),
        })
      : createPostgresTopic({
          pool,
          name: postgresTopicName(name),
          partitions,
          schema: spec.schema,
          log: logFor(name),
        });
}
