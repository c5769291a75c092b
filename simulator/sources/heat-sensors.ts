import type { Topic } from '../../log/topic.ts';
import { withContext } from '../../lib/errors.ts';
import { floorMinute } from '../ledger-facts.ts';
import { recordFacts, type SourceFact, type SourceFault } from '../ledger-sources.ts';
import { createRng, deriveSeed } from '../prng.ts';
import { createHeatFaults, type HeatFaultOptions, type HeatOutgoing } from './heat-faults.ts';
import { createHeatModel } from './heat-model.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';

/** Source name in the ledger (facts, faults, seal). */
export const HEAT_SOURCE = 'heat-sensors';
export const HEAT_TOPIC = 'mycpu.heat';
export const HEAT_FACTS = ['zone_temp_count', 'zone_temp_sum'] as const;

export interface HeatWriterOptions extends WriterContext {
  /** Topic name. Default `mycpu.heat` (1 partition, key sensorId). */
  topic?: string;
  /** Fault rates before the context's `faultRate` multiplier; defaults `DEFAULT_HEAT_FAULTS`. */
  faults?: HeatFaultOptions;
  /** Most messages per publish. Default 5000. */
  maxBatch?: number;
}

export interface HeatWriter extends SourceWriter {
  stats(): {
    written: number;
    messages: number;
    faults: Record<string, number>;
    clock: number | null;
    sealedBefore: number | null;
  };
}

interface Batch {
  messages: HeatOutgoing[];
  sealedBefore: number;
}
interface Entry {
  facts: SourceFact[];
  faults: SourceFault[];
  sealedBefore: number;
  readings: number;
  messages: number;
}

/**
 * The heat sensors (docs/sources.md row 1): a reading per sensor every 10 s simulated, published to
 * a Kafka (or table) topic with a real plant's duplicates, late readings and malformed messages.
 * The ledger gets what the topic acknowledged — never before, so it never counts an unsent reading.
 */
export function createHeatWriter(ctx: HeatWriterOptions): HeatWriter {
  if (!Number.isInteger(ctx.seed)) throw new Error('heat writer: seed must be an integer');
  const maxBatch = ctx.maxBatch ?? 5_000;
  const topic: Topic = ctx.openTopic(ctx.topic ?? HEAT_TOPIC, 1);
  // Ids carry seed and start so that runs sharing one pipeline never collide (as machining ids do).
  const idPrefix = `h${ctx.seed.toString(36)}.${(ctx.liveStart ?? ctx.startTime).toString(36)}`;
  const model = createHeatModel({ floor: ctx.floor, seed: ctx.seed, startTime: ctx.startTime, idPrefix });
  const faults = createHeatFaults(ctx.faults ?? {}, ctx.faultRate, createRng(deriveSeed(ctx.seed, 'heat-faults')));
  let clock = ctx.startTime;
  let pending: Batch | null = null; // generated, not yet acknowledged
  let unrecorded: Entry | null = null; // acknowledged, not yet in the ledger
  let topicReady = false;
  const stats = { written: 0, messages: 0, faults: {} as Record<string, number>, sealedBefore: null as number | null };

  /** Next batch of readings before `until`; returns how many readings it generated. */
  function generate(until: number): number {
    const messages: HeatOutgoing[] = [];
    let n = 0;
    while (messages.length < maxBatch && model.peekTime() < until) {
      faults.push(model.next(), messages);
      n++;
    }
    clock = model.peekTime();
    const sealedBefore = floorMinute(Math.min(clock, faults.heldMinAt() ?? Number.POSITIVE_INFINITY));
    if (messages.length > 0 || sealedBefore > (stats.sealedBefore ?? -1)) pending = { messages, sealedBefore };
    return n;
  }

  function entryOf(b: Batch): Entry {
    // Count and sum per (minute, zone), keyed by minute then zone: no key string per reading.
    const cells = new Map<number, Map<string, { count: number; sum: number }>>();
    const faultList: SourceFault[] = [];
    let readings = 0;
    for (const m of b.messages) {
      if (m.reading) {
        const minute = floorMinute(m.reading.at);
        let zones = cells.get(minute);
        if (!zones) cells.set(minute, (zones = new Map()));
        const c = zones.get(m.reading.zone);
        if (c) {
          c.count++;
          c.sum += m.reading.centiC;
        } else zones.set(m.reading.zone, { count: 1, sum: m.reading.centiC });
        readings++;
      }
      if (m.fault) faultList.push(m.fault);
    }
    const facts: SourceFact[] = [];
    for (const [minute, zones] of cells) {
      for (const [zone, c] of zones) {
        facts.push(
          { fact: 'zone_temp_count', minute, dims: [zone], value: c.count },
          { fact: 'zone_temp_sum', minute, dims: [zone], value: c.sum },
        );
      }
    }
    return { facts, faults: faultList, sealedBefore: b.sealedBefore, readings, messages: b.messages.length };
  }

  /** Publish the pending batch, then record it; a failure in either step resumes there next time. */
  async function settle(): Promise<void> {
    if (pending) {
      try {
        if (!topicReady) await topic.ensure().then(() => (topicReady = true));
        if (pending.messages.length > 0) await topic.publish(pending.messages);
      } catch (err) {
        throw withContext(err, `heat writer: publish to ${topic.name}`);
      }
      unrecorded = entryOf(pending);
      pending = null;
    }
    if (unrecorded) {
      const e = unrecorded;
      try {
        await recordFacts(ctx.pool, ctx.ledgerSchema, {
          source: HEAT_SOURCE,
          facts: e.facts,
          faults: e.faults,
          sealedBefore: e.sealedBefore,
        });
      } catch (err) {
        throw withContext(err, 'heat writer: ledger write');
      }
      stats.written += e.readings;
      stats.messages += e.messages;
      for (const f of e.faults) stats.faults[f.kind] = (stats.faults[f.kind] ?? 0) + 1;
      stats.sealedBefore = Math.max(stats.sealedBefore ?? e.sealedBefore, e.sealedBefore);
      unrecorded = null;
    }
  }

  return {
    name: HEAT_SOURCE,
    async advanceTo(t) {
      await settle();
      while (model.peekTime() < t) {
        generate(t);
        await settle();
      }
    },
    stats: () => ({ ...stats, faults: { ...stats.faults }, clock }),
    /** Sends what is still held back (late readings, delayed duplicates), seals up to the clock, closes the topic. */
    async close() {
      await settle();
      pending = { messages: faults.drain(), sealedBefore: floorMinute(clock) };
      await settle();
      await topic.close();
    },
  };
}
