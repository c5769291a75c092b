import type { Topic } from '../log/topic.ts';
import { withContext } from '../lib/errors.ts';
import {
  createFaultInjector,
  type FaultInjector,
  type FaultOptions,
  type FaultRecord,
  type Outgoing,
} from './faults.ts';
import { loadFloorMap, type FloorMap } from './floor.ts';
import type { Ledger, LedgerEntry } from './ledger.ts';
import { FactAccumulator, floorMinute } from './ledger-facts.ts';
import { createLineModel, type LineModel } from './line-model.ts';
import { createRng, deriveSeed } from './prng.ts';
import type { MachiningEvent } from './wire.ts';
import { createTicker } from './ticker.ts';

/** The live machining source (MYCPU.md): events of the MyCPU line, with a real plant's faults. */
export interface MachiningSimulatorOptions {
  /** Destination: the machining source topic (Kafka, or the Postgres-table topic in embedded mode). */
  topic: Topic;
  /** Where acknowledged truth is recorded (`createLedger`). */
  ledger: Pick<Ledger, 'record'>;
  /** PRNG seed (integer): same seed, start time, rate and faults → the same messages. */
  seed: number;
  /** Target machining events per simulated second. Default 20. */
  ratePerSec?: number;
  /** Simulated time of the first event, epoch ms. Default: `now()` at the first `runFor`/`start`. */
  startTime?: number;
  /**
   * Simulated time the line runs unseen before `startTime`, so it is already full at the first
   * message. Default 1 h, shortened at high rates to ~200 000 events so starting stays quick.
   */
  warmupMs?: number;
  /** Fault rates; defaults in `DEFAULT_FAULTS`. Pass zeros for a clean stream. */
  faults?: FaultOptions;
  /** Floor map. Default `loadFloorMap()`. */
  floor?: FloorMap;
  /** Wall clock for live mode. Default `Date.now`. */
  now?: () => number;
  /** Live mode: pause between publishes, ms. Default 100. */
  intervalMs?: number;
  /** Most messages per publish. Default 1000. */
  maxBatch?: number;
  /** Live mode: errors that will be retried (topic or ledger down). Default: ignored. */
  onError?: (err: unknown) => void;
  /**
   * Called with the well-formed unique events of each acknowledged batch, after the ledger recorded
   * them (the SQL machining archive is fed from here). A failure is retried with the next batch.
   */
  onPublished?: (events: MachiningEvent[]) => Promise<void>;
}

export interface MachiningStats {
  /** Unique events acknowledged and recorded. */
  events: number;
  /** Messages acknowledged, duplicates and malformed included. */
  messages: number;
  faults: Record<FaultRecord['kind'], number>;
  /** Simulated time up to which events have been generated (exclusive), epoch ms; null before the first run. */
  clock: number | null;
  sealedBefore: number | null;
  held: { late: number; duplicates: number };
}

export interface MachiningSimulator {
  /**
   * Fast mode: generate and publish as fast as the topic acks, until `events` more logical events
   * were generated or simulated time reaches `untilTime` (whichever first; at least one is required).
   * If a publish or ledger write fails it rejects; the failed batch is kept and retried first by the
   * next `runFor`/`start`, so delivery is at least once and the ledger never counts an unacked event.
   */
  runFor(opts: { events?: number; untilTime?: number }): Promise<MachiningStats>;
  /** Live mode: simulated time = `now()`; publishes what is due every `intervalMs` until `stop()`. */
  start(): void;
  /** Stop the live loop; with `flush` (default true) also send everything still held back and seal up to the clock. */
  stop(opts?: { flush?: boolean }): Promise<void>;
  stats(): MachiningStats;
}

/** Figures before anything ran. */
export const emptyMachiningStats = (): MachiningStats => ({
  events: 0,
  messages: 0,
  faults: { duplicate: 0, late: 0, malformed: 0 },
  clock: null,
  sealedBefore: null,
  held: { late: 0, duplicates: 0 },
});

interface Batch {
  messages: Outgoing[];
  sealedBefore: number;
}

export function createMachiningSimulator(opts: MachiningSimulatorOptions): MachiningSimulator {
  if (!Number.isInteger(opts.seed)) throw new Error('machining simulator: seed must be an integer');
  const now = opts.now ?? Date.now;
  const ratePerSec = opts.ratePerSec ?? 20;
  if (!(ratePerSec > 0)) throw new Error('machining simulator: ratePerSec must be positive');
  const maxBatch = opts.maxBatch ?? 1000;
  const warmupMs = opts.warmupMs ?? Math.min(3_600_000, Math.round((200_000 / ratePerSec) * 1000));
  let line: LineModel | null = null;
  let injector: FaultInjector | null = null;
  let clock: number | null = null;
  const pending: Batch[] = []; // generated, not yet acknowledged by the topic, in order
  let queuedSeal = Number.NEGATIVE_INFINITY; // seal of the last batch queued
  const unrecorded: LedgerEntry[] = []; // acknowledged, not yet in the ledger, in order
  const unarchived: MachiningEvent[] = []; // recorded, not yet handed to `onPublished`
  let topicReady = false;
  const stats = emptyMachiningStats();

  function init(): { line: LineModel; injector: FaultInjector } {
    if (line && injector) return { line, injector };
    const startTime = opts.startTime ?? now();
    // Ids carry seed and start so that runs sharing one pipeline never collide (the loader would drop them as duplicates).
    const idPrefix = `m${opts.seed.toString(36)}.${startTime.toString(36)}`;
    line = createLineModel({
      floor: opts.floor ?? loadFloorMap(),
      seed: opts.seed,
      startTime: startTime - warmupMs,
      ratePerSec,
      idPrefix,
    });
    while (line.peekTime() < startTime) line.next(); // warm-up: nothing of it is sent or recorded
    injector = createFaultInjector(opts.faults ?? {}, createRng(deriveSeed(opts.seed, 'faults')));
    clock = startTime;
    return { line, injector };
  }

  /** Next batch: events before `untilTime`, at most `maxEvents` of them. Returns events generated. */
  function generate(untilTime: number, maxEvents: number): number {
    const { line, injector } = init();
    const messages: Outgoing[] = [];
    let n = 0;
    while (n < maxEvents && messages.length < maxBatch && line.peekTime() < untilTime) {
      injector.push(line.next(), messages);
      n++;
    }
    // Every event before `clock` has been generated; the held-back late ones are not sent yet.
    clock = line.peekTime();
    const sealedBefore = floorMinute(Math.min(clock, injector.heldMinAt() ?? Number.POSITIVE_INFINITY));
    if (messages.length > 0 || sealedBefore > queuedSeal) {
      pending.push({ messages, sealedBefore });
      queuedSeal = Math.max(queuedSeal, sealedBefore);
    }
    return n;
  }

  function entryOf(batch: Batch): LedgerEntry {
    const acc = new FactAccumulator();
    const faults: FaultRecord[] = [];
    let events = 0;
    for (const m of batch.messages) {
      if (m.event) {
        acc.add(m.event);
        events++;
      }
      if (m.fault) faults.push(m.fault);
    }
    return { facts: acc.take(), faults, sealedBefore: batch.sealedBefore, events, messages: batch.messages.length };
  }

  /** Publish the batches pending now (not those queued meanwhile), in order; a failed one stays first. */
  async function publishPending(): Promise<void> {
    for (let n = pending.length; n > 0 && pending.length > 0; n--) {
      const batch = pending[0];
      try {
        if (!topicReady) {
          await opts.topic.ensure();
          topicReady = true;
        }
        if (batch.messages.length > 0) await opts.topic.publish(batch.messages);
      } catch (err) {
        throw withContext(err, `machining simulator: publish to ${opts.topic.name}`);
      }
      pending.shift();
      unrecorded.push(entryOf(batch));
      if (opts.onPublished) for (const m of batch.messages) if (m.event) unarchived.push(m.event);
    }
  }

  /** Record the acknowledged entries there now, in order, then archive; a failed one stays first. */
  async function recordAcked(): Promise<void> {
    for (let n = unrecorded.length; n > 0 && unrecorded.length > 0; n--) {
      const e = unrecorded[0];
      try {
        await opts.ledger.record(e);
      } catch (err) {
        throw withContext(err, 'machining simulator: ledger write');
      }
      unrecorded.shift();
      stats.events += e.events;
      stats.messages += e.messages;
      for (const f of e.faults) stats.faults[f.kind]++;
      stats.sealedBefore = Math.max(stats.sealedBefore ?? e.sealedBefore, e.sealedBefore);
    }
    if (opts.onPublished && unarchived.length > 0) {
      const n = unarchived.length;
      await opts.onPublished(unarchived.slice(0, n));
      unarchived.splice(0, n);
    }
  }

  /** Everything generated so far: published, then recorded. */
  async function settle(): Promise<void> {
    await recordAcked();
    await publishPending();
    await recordAcked();
  }

  const ticker = createTicker({
    intervalMs: opts.intervalMs ?? 100,
    onError: opts.onError ?? (() => undefined),
    async tick() {
      await settle();
      generate(now() + 1, Number.POSITIVE_INFINITY);
      await settle();
      return line!.peekTime() <= now();
    },
  });

  const snapshot = (): MachiningStats => ({
    ...stats,
    faults: { ...stats.faults },
    clock,
    held: injector ? injector.held : { late: 0, duplicates: 0 },
  });

  return {
    async runFor({ events, untilTime }) {
      if (events === undefined && untilTime === undefined)
        throw new Error('machining simulator: runFor needs events or untilTime');
      if (ticker.running) throw new Error('machining simulator: runFor while the live loop runs');
      await settle();
      let remaining = events ?? Number.POSITIVE_INFINITY;
      // Pipelined: while batch k is generated, k-1 is published and k-2 recorded. At most one
      // batch is in each stage; publishes, and ledger records, still happen one at a time and in
      // order, and a batch is recorded only after its publish was acknowledged.
      let publishing: Promise<void> = Promise.resolve();
      let recording: Promise<void> = Promise.resolve();
      const both = async () => {
        const [p, r] = await Promise.allSettled([publishing, recording]);
        for (const x of [p, r]) if (x.status === 'rejected') throw x.reason;
      };
      while (remaining > 0) {
        const n = generate(untilTime ?? Number.POSITIVE_INFINITY, remaining);
        remaining -= n;
        await both();
        recording = recordAcked();
        publishing = publishPending();
        if (n === 0) break;
      }
      await both();
      await settle();
      return snapshot();
    },
    start() {
      init();
      ticker.start();
    },
    async stop({ flush = true } = {}) {
      await ticker.stop();
      if (!flush || !injector || clock === null) return;
      await settle();
      pending.push({ messages: injector.drain(), sealedBefore: floorMinute(clock) });
      await settle();
    },
    stats: snapshot,
  };
}
