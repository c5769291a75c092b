import { z } from 'zod';
import { defineConnector, type ConnectorStatus } from '../define-connector.ts';
import { createConnectorHealth } from '../connector-health.ts';
import { messageSchemas } from '../schemas/machining.ts';
import { checkpointTotals, readCheckpoint, saveCheckpoint, type DeadLetter } from '../checkpoints.ts';
import { unpublishable, type Envelope } from '../envelope.ts';
import type { Subscription } from '../../log/topic.ts';

/**
 * A Kafka source topic → the log. Per batch: validate each message against its topic's schema
 * (bad ones become dead letters with topic:partition:offset), publish the envelopes, and only
 * after the log acknowledged, save the checkpoint (and the dead letters) in Postgres.
 */

export const kafkaSource = defineConnector({
  kind: 'kafka',
  config: z.object({
    /** Source topic name. */
    topic: z.string().min(1),
    /** Partitions of the source topic. Default 1. */
    partitions: z.number().int().positive().default(1),
    /** Message schema used to validate and map messages. */
    schema: z.enum(Object.keys(messageSchemas) as [keyof typeof messageSchemas]),
  }),
  reparse: (config, raw) => messageSchemas[config.schema](raw, `kafka:${config.topic}`),
  create(config, ctx) {
    const source = ctx.openTopic(config.topic, config.partitions);
    const toEnvelope = messageSchemas[config.schema];
    const sourceName = `kafka:${config.topic}`;
    let sub: Subscription | null = null;
    const health = createConnectorHealth({ stallAfterMs: ctx.stallAfterMs });
    return {
      name: ctx.name,
      kind: 'kafka',
      async start() {
        await source.ensure();
        sub = await source.consume({
          group: `${ctx.prefix ?? 'millrace'}-connector-${ctx.name}`,
          onError: (err) => {
            health.fail(err);
            ctx.onError(err);
          },
          startOffset: (p) => readCheckpoint(ctx.pool, ctx.schema, ctx.name, p),
          onBatch: async ({ partition, records }) => {
            try {
              const events: Envelope[] = [];
              const dead: Array<DeadLetter & { unreadableFrom?: number; unreadableTo?: number }> = [];
              const out: Array<{ key: string; value: string }> = [];
              for (const r of records) {
                const position = `${config.topic}:${partition}:${r.offset}`;
                // A batch the reader could not decode, after its retries (log/unreadable-batch.ts):
                // one dead letter for the run of offsets it held, then read on.
                if (r.unreadable !== undefined) {
                  const prev = dead[dead.length - 1];
                  if (prev?.unreadableTo === r.offset - 1 && prev.reason === r.unreadable) {
                    prev.position = `${config.topic}:${partition}:${prev.unreadableFrom}-${r.offset}`;
                    prev.unreadableTo = r.offset;
                  } else
                    dead.push({
                      position,
                      raw: '',
                      reason: r.unreadable,
                      unreadableFrom: r.offset,
                      unreadableTo: r.offset,
                    });
                  continue;
                }
                // The value arrives decoded as UTF-8: a byte that is not UTF-8 became U+FFFD (a Latin-1
                // name, a UTF-16 producer). Accepting it would store a mangled id; it is bad input.
                const env = r.value.includes('\uFFFD') ? 'not valid UTF-8' : toEnvelope(r.value, sourceName);
                if (typeof env === 'string') {
                  dead.push({ position, raw: r.value, reason: env });
                  continue;
                }
                const value = JSON.stringify(env);
                // Over the log's limit (its broker refuses it however often it is retried): dead-letter it, go on.
                const unfit = unpublishable(value);
                if (unfit !== null) {
                  dead.push({ position, raw: r.value, reason: unfit });
                  continue;
                }
                events.push(env);
                out.push({ key: env.key, value });
              }
              if (out.length > 0) await ctx.log.publish(out);
              await saveCheckpoint(ctx.pool, ctx.schema, {
                connector: ctx.name,
                source: sourceName,
                partition,
                nextOffset: records[records.length - 1].offset + 1,
                events: events.length,
                deadLetters: dead,
              });
              health.ok();
            } catch (err) {
              health.fail(err);
              ctx.onError(err);
              throw err;
            }
          },
        });
      },
      async stop() {
        await sub?.stop();
        sub = null;
        await source.close();
      },
      async status(): Promise<ConnectorStatus> {
        const t = await checkpointTotals(ctx.pool, ctx.schema, ctx.name);
        const ends = await source.endOffsets();
        const lag = ends.reduce((n, end, p) => n + Math.max(0, end - (t.positions.get(p) ?? 0)), 0);
        return {
          name: ctx.name,
          kind: 'kafka',
          events: t.events,
          deadLetters: t.deadLetters,
          lag,
          lastCheckpointAt: t.lastCheckpointAt,
          ...health.snapshot(),
          positions: ends.map((_, p) => t.positions.get(p) ?? 0),
          sourceEnd: ends,
        };
      },
    };
  },
});
