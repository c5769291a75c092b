import { Producer, stringSerializers } from '@platformatic/kafka';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Kafka, logLevel as LogLevel, type Admin, type EachBatchPayload, type ISocketFactory } from 'kafkajs';
import { MillraceError, withContext } from '../lib/errors.ts';
import { registerKafkaCodecs } from './kafka-codecs.ts';
import { UNREADABLE_HEADER } from './unreadable-batch.ts';
import { partitionFor, type ConsumeOptions, type Subscription, type Topic, type TopicRecord } from './topic.ts';

export interface KafkaTopicOptions {
  /** Bootstrap brokers, e.g. `['127.0.0.1:9092']`. */
  brokers: string[];
  /** Topic name. */
  name: string;
  /** Partition count; `ensure()` creates the topic with it and refuses a topic that has another. */
  partitions: number;
  /** Kafka client id. Default `'millrace'`. */
  clientId?: string;
  /**
   * Consumer-group session timeout, ms: a member that stops heartbeating (killed) keeps its
   * partitions this long before the group rebalances them to the others. Default 30 000 (kafkajs').
   */
  sessionTimeoutMs?: number;
  /** kafkajs log level. Default `ERROR` (kafkajs is chatty at WARN/INFO). */
  logLevel?: LogLevel;
  /** Where this topic's own diagnostics go. Default `console.warn`. */
  log?: (line: string) => void;
  /** How kafkajs opens its broker connections (tests cut them). Default: kafkajs' own (`net.connect`). */
  socketFactory?: ISocketFactory;
}

/**
 * Bounds of one produce request. The broker refuses a partition's record batch over 1 MiB
 * (`message.max.bytes`); keeping the whole request under 900 KiB keeps every batch in it under too.
 * Fewer, larger requests are most of the back-fill's speed (bench/backfill.ts).
 */
const CHUNK_RECORDS = 10_000;
const CHUNK_BYTES = 900 * 1024;
/** Longest an idle fetch waits on the broker; bounds how long `stop()` can take. */
const MAX_WAIT_MS = 1000;

/**
 * A topic just created may not be in the broker's metadata yet (UNKNOWN_TOPIC_OR_PARTITION,
 * retriable): ask again, 50 ms doubling to 1 s, for about ten seconds before calling it an error.
 */
const metadataRetry = retry(
  handleWhen((e) => (e as { retriable?: boolean }).retriable === true),
  {
    maxAttempts: 14,
    backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }),
  },
);

/** The production log: a Kafka topic, written by an idempotent producer, read by consumer groups. */
export function createKafkaTopic(opts: KafkaTopicOptions): Topic {
  const { name, partitions } = opts;
  const log = opts.log ?? ((line: string) => console.warn(`[kafka-topic ${name}] ${line}`));
  // Source topics are written by plant producers that compress (snappy, lz4, zstd, gzip).
  registerKafkaCodecs();
  const kafka = new Kafka({
    clientId: opts.clientId ?? 'millrace',
    brokers: opts.brokers,
    logLevel: opts.logLevel ?? LogLevel.ERROR,
    ...(opts.socketFactory ? { socketFactory: opts.socketFactory } : {}),
  });
  const subscriptions = new Set<Subscription>();
  let admin: Promise<Admin> | null = null;
  let producer: Promise<Producer<string, string, string, string>> | null = null;
  // Sends are serialised: the idempotent producer's sequence numbers must follow call order.
  let sending: Promise<unknown> = Promise.resolve();

  const connected = <T extends { connect(): Promise<void> }>(client: T): Promise<T> =>
    client.connect().then(() => client);
  const getAdmin = () =>
    (admin ??= connected(kafka.admin()).catch((e) => {
      admin = null;
      throw e;
    }));
  // Writes go through @platformatic/kafka: its producer spends about 10 µs of CPU per message
  // where kafkajs' spends 24 (bench/backfill.ts), and a year's back-fill is ~90 M messages.
  // Reads and admin stay on kafkajs (consumer groups with eachBatch and seek).
  const getProducer = () =>
    (producer ??= Promise.resolve(
      new Producer({
        clientId: opts.clientId ?? 'millrace',
        bootstrapBrokers: opts.brokers,
        serializers: stringSerializers,
        idempotent: true,
        acks: -1,
        autocreateTopics: false,
        retries: 5,
        retryDelay: 250,
      }),
    ));

  async function sendChunk(records: Array<{ key: string; value: string }>) {
    const p = await getProducer();
    const parts = new Array<number>(records.length);
    const messages = new Array<{ topic: string; key: string; value: string; partition: number }>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      messages[i] = {
        topic: name,
        key: r.key,
        value: r.value,
        partition: (parts[i] = partitionFor(r.key, partitions)),
      };
    }
    const sent = await p.send({ messages });
    // One batch per partition per request: offsets inside it are baseOffset + position in input order.
    const next = new Map(
      (sent.offsets ?? []).filter((o) => o.topic === name).map((o) => [o.partition, Number(o.offset)]),
    );
    return parts.map((partition) => {
      const offset = next.get(partition);
      if (offset === undefined)
        throw new MillraceError('LOG_PUBLISH', `no ack for ${name}[${partition}]`, { retryable: true });
      next.set(partition, offset + 1);
      return { partition, offset };
    });
  }

  return {
    name,
    partitions,

    async ensure() {
      try {
        const a = await getAdmin();
        // Checking first keeps kafkajs from logging TOPIC_ALREADY_EXISTS as an error on every start;
        // createTopics still tolerates losing a race with another creator.
        if (!(await a.listTopics()).includes(name)) {
          await a.createTopics({
            topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
            waitForLeaders: true,
          });
        }
        const meta = await metadataRetry.execute(() => a.fetchTopicMetadata({ topics: [name] }));
        const have = meta.topics[0]?.partitions.length;
        if (have !== partitions) {
          throw new MillraceError(
            'LOG_PARTITIONS_MISMATCH',
            `topic ${name} has ${have} partitions, configured ${partitions}`,
          );
        }
      } catch (err) {
        throw withContext(err, `ensure kafka topic ${name}`);
      }
    },

    publish(records) {
      const run = sending.then(async () => {
        const out: Array<{ partition: number; offset: number }> = [];
        let chunk: typeof records = [];
        let bytes = 0;
        for (const r of records) {
          const size = Buffer.byteLength(r.key) + Buffer.byteLength(r.value);
          if (chunk.length > 0 && (chunk.length >= CHUNK_RECORDS || bytes + size > CHUNK_BYTES)) {
            for (const o of await sendChunk(chunk)) out.push(o);
            chunk = [];
            bytes = 0;
          }
          chunk.push(r);
          bytes += size;
        }
        if (chunk.length > 0) for (const o of await sendChunk(chunk)) out.push(o);
        return out;
      });
      sending = run.catch(() => undefined);
      return run.catch((err) => {
        throw withContext(err, `publish to ${name}`);
      });
    },

    async consume(options) {
      const sub = await startConsumer(kafka, name, partitions, options, log, opts.sessionTimeoutMs ?? 30_000);
      const tracked: Subscription = {
        stop: async () => {
          subscriptions.delete(tracked);
          await sub.stop();
        },
      };
      subscriptions.add(tracked);
      return tracked;
    },

    async endOffsets() {
      const offsets = await (await getAdmin()).fetchTopicOffsets(name);
      const out = new Array<number>(partitions).fill(0);
      for (const o of offsets) if (o.partition < partitions) out[o.partition] = Number(o.high);
      return out;
    },

    async close() {
      await Promise.all([...subscriptions].map((s) => s.stop()));
      const [p, a] = await Promise.allSettled([producer, admin]);
      producer = admin = null;
      await Promise.all([
        p.status === 'fulfilled' && p.value ? p.value.close() : undefined,
        a.status === 'fulfilled' && a.value ? a.value.disconnect() : undefined,
      ]);
    },
  };
}

/** Longest pause before a consumer that crashed for good (kafkajs gave up) is started again. */
const MAX_RESTART_MS = 30_000;

/**
 * One consumer-group member. `startOffset` is the truth; Kafka's committed offsets only a hint.
 * kafkajs stops a consumer for good on a non-retriable error (a batch it cannot decode, say): this
 * member then reports it through `onError` and starts a fresh kafkajs consumer after a back-off, so
 * a reader never stops silently; a position that keeps failing stays visible until skipped.
 */
async function startConsumer(
  kafka: Kafka,
  topic: string,
  partitions: number,
  o: ConsumeOptions,
  log: (l: string) => void,
  sessionTimeoutMs: number,
): Promise<Subscription> {
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();
  let current: Member | null = null;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  // A fresh kafkajs consumer in the group; a batch it handles resets the back-off.
  const member = (): Promise<Member> =>
    startMember(kafka, topic, partitions, o, log, sessionTimeoutMs, stopping.signal, running, onFatal, () => {
      restarts = 0;
    });
  const onFatal = (err: Error) => {
    if (stopping.signal.aborted) return;
    const ms = Math.min(1000 * 2 ** restarts++, MAX_RESTART_MS);
    log(`group ${o.group}: consumer stopped (${err.message}); starting a new one in ${ms} ms`);
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping.signal.aborted) return;
      const old = current;
      void (async () => {
        await old?.stop().catch(() => undefined);
        if (stopping.signal.aborted) return;
        current = await member().catch((e: Error) => {
          o.onError?.(e);
          onFatal(e);
          return null;
        });
      })();
    }, ms);
  };
  current = await member();
  let stopped: Promise<void> | null = null;
  return {
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        if (restartTimer) clearTimeout(restartTimer);
        await current?.stop();
        await Promise.all(running); // in case kafkajs gave up waiting
      })()),
  };
}

interface Member {
  stop(): Promise<void>;
}

async function startMember(
  kafka: Kafka,
  topic: string,
  partitions: number,
  o: ConsumeOptions,
  log: (l: string) => void,
  sessionTimeoutMs: number,
  stopping: AbortSignal,
  running: Set<Promise<void>>,
  onFatal: (err: Error) => void,
  onProgress: () => void,
): Promise<Member> {
  const maxBatch = o.maxBatch ?? 500;
  await syncHints(kafka, topic, partitions, o, log);
  const consumer = kafka.consumer({
    groupId: o.group,
    maxWaitTimeInMs: MAX_WAIT_MS,
    allowAutoTopicCreation: false,
    sessionTimeout: sessionTimeoutMs,
    // kafkajs' default ratio (3 s of 30 s): a few heartbeats fit in every session.
    heartbeatInterval: Math.max(100, Math.floor(sessionTimeoutMs / 10)),
  });
  /** Next offset to deliver per partition; unknown (re-read from startOffset) after each join. */
  const expected = new Map<number, number>();
  const failures = new Map<number, number>();
  /** Partition@offset where the broker's first record came after the expected offset, once already. */
  const gaps = new Set<string>();
  // kafkajs' seek throws ("Consumer group was not initialized") once its consumer crashed or is
  // stopping; it used to escape from an event handler as an unhandled rejection and end the process.
  const seek = (partition: number, offset: number) => {
    try {
      consumer.seek({ topic, partition, offset: String(offset) });
    } catch (err) {
      log(`group ${o.group} partition ${partition}: seek to ${offset} skipped: ${(err as Error).message}`);
    }
  };

  // On every (re)join: forget what we knew and position each assigned partition at the consumer's
  // own truth. Doing it here, not lazily, also covers a partition whose hint is past the truth
  // and that would otherwise never produce a batch to correct it from.
  let positioned: Promise<unknown> = Promise.resolve();
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    expected.clear();
    positioned = Promise.all(
      (payload.memberAssignment[topic] ?? []).map(async (p) => {
        const from = await o
          .startOffset(p)
          .catch((err) => log(`group ${o.group} partition ${p}: startOffset failed: ${err.message}`));
        if (typeof from !== 'number') return; // eachBatch retries lazily
        expected.set(p, from);
        seek(p, from);
      }),
    );
  });
  consumer.on(consumer.events.CRASH, (e) => {
    const err = e.payload.error;
    log(`group ${o.group} consumer crashed (restart: ${e.payload.restart}): ${err.message}`);
    o.onError?.(err);
    if (!e.payload.restart) onFatal(err);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });

  const backoff = (p: number) => {
    const n = (failures.get(p) ?? 0) + 1;
    failures.set(p, n);
    const ms = Math.min(500 * 2 ** (n - 1), 5000);
    if (stopping.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        stopping.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      stopping.addEventListener('abort', done);
    });
  };

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    const p = batch.partition;
    await positioned;
    if (isStale()) return; // fetched before the seek above; the next fetch starts at the truth
    let next = expected.get(p);
    try {
      if (next === undefined) expected.set(p, (next = await o.startOffset(p)));
    } catch (err) {
      log(`group ${o.group} partition ${p}: startOffset failed, retrying: ${(err as Error).message}`);
      await backoff(p);
      return;
    }
    const all = batch.messages;
    const keep = all.filter((m) => Number(m.offset) >= next!);
    // Older than the consumer's own position: already processed; let Kafka's position move on.
    if (keep.length < all.length) resolveOffset(all[all.length - keep.length - 1].offset);
    if (keep.length === 0) return;
    if (Number(keep[0].offset) > next) {
      const note = `${p}@${next}`;
      if (!gaps.has(note)) {
        // Maybe a fetch from before a seek: read again from the expected offset, once.
        log(`group ${o.group} partition ${p}: got offset ${keep[0].offset}, expected ${next}; seeking back`);
        gaps.add(note);
        seek(p, next);
        return;
      }
      // Twice the same answer: offsets [next, first) hold no records a client can read (transaction
      // markers, aborted or compacted records, which producers nobody here wrote do leave). Reading
      // on is correct; waiting would stall the partition for good.
      log(
        `group ${o.group} partition ${p}: offsets ${next}..${Number(keep[0].offset) - 1} hold no readable records; going on`,
      );
    }
    for (let i = 0; i < keep.length; i += maxBatch) {
      if (stopping.aborted || !isRunning() || isStale()) return;
      const records: TopicRecord[] = keep.slice(i, i + maxBatch).map((m) => {
        const r: TopicRecord = {
          partition: p,
          offset: Number(m.offset),
          key: m.key?.toString() ?? '',
          value: m.value?.toString() ?? '',
          timestamp: Number(m.timestamp),
        };
        const why = m.key === null && m.value === null ? m.headers?.[UNREADABLE_HEADER] : undefined;
        if (why !== undefined) r.unreadable = why.toString();
        return r;
      });
      const last = records[records.length - 1].offset;
      const call = o.onBatch({ partition: p, records });
      const done = call.then(
        () => undefined,
        () => undefined,
      );
      running.add(done);
      try {
        await call;
      } catch (err) {
        log(
          `group ${o.group} partition ${p}: onBatch failed at ${records[0].offset}, will redeliver: ${(err as Error).message}`,
        );
        await backoff(p);
        expected.delete(p);
        // Redeliver from the consumer's own truth (its failed transaction did not move it; an
        // operator's skip may have moved it on).
        const from = await o.startOffset(p).catch(() => records[0].offset);
        if (!stopping.aborted) seek(p, from);
        return;
      } finally {
        running.delete(done);
      }
      failures.delete(p);
      onProgress();
      expected.set(p, last + 1);
      resolveOffset(String(last));
      // A hint for tools and for a first start without state; losing it is harmless.
      await consumer.commitOffsets([{ topic, partition: p, offset: String(last + 1) }]).catch(() => undefined);
      await heartbeat();
    }
  }

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: Math.min(partitions, 4),
    eachBatch,
  });

  let stopped: Promise<void> | null = null;
  return {
    stop: () =>
      (stopped ??= (async () => {
        // kafkajs' stop waits for the running eachBatch calls (and so for onBatch) to return.
        await consumer.stop().catch(() => undefined);
        await consumer.disconnect().catch(() => undefined);
      })()),
  };
}

/**
 * Set the group's committed offsets (the hint kafkajs starts fetching from) to the consumer's own
 * truth before joining. The seek on join comes too late for a first fetch that cannot be decoded:
 * after `millrace connectors skip` moved the truth past a poisoned batch, a consumer starting from
 * the old hint would crash on that batch again before its seek took effect. Kafka refuses this
 * while the group has other live members; then their positions stand and the seek on join applies.
 */
async function syncHints(
  kafka: Kafka,
  topic: string,
  partitions: number,
  o: ConsumeOptions,
  log: (l: string) => void,
): Promise<void> {
  const admin = kafka.admin();
  try {
    const offsets = await Promise.all(
      Array.from({ length: partitions }, async (_, p) => ({ partition: p, offset: String(await o.startOffset(p)) })),
    );
    await admin.connect();
    await admin.setOffsets({ groupId: o.group, topic, partitions: offsets });
  } catch (err) {
    const msg = (err as Error).message;
    if (!/running instances|not empty/i.test(msg))
      log(`group ${o.group}: could not set the offset hints (${msg}); the seek on join positions it`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
