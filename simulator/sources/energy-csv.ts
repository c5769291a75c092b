import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { withContext } from '../../lib/errors.ts';
import { recordFacts, type SourceFact, type SourceFault } from '../ledger-sources.ts';
import { createRng, deriveSeed } from '../prng.ts';
import {
  ENERGY_HEADER,
  INTERVAL_MS,
  MALFORMED_FLAVOURS,
  energyLine,
  energyMeters,
  isoDay,
  malformedLine,
  meterReading,
} from './energy-model.ts';
import { writeEnergyWorkbook } from './energy-xlsx.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';

/** The writer's name: its seal and the `source` of its ledger rows. */
export const ENERGY_WRITER = 'energy-csv';
/** Ledger fact: Wh per (interval minute, machine), each reading once. */
export const ENERGY_FACT = 'energy_wh';

/** Fault chances per interval at `faultRate` 1: each kind shows up within a simulated hour. */
export interface EnergyFaultRates {
  /** A garbled extra line (bad number, missing column, garbage, bad time). Default 0.08. */
  malformed: number;
  /** One of this interval's rows re-appended 1–15 intervals later. Default 0.1. */
  duplicate: number;
  /** The day's file truncated and rewritten from scratch with the same lines. Default 0.08. */
  rewrite: number;
}
export const DEFAULT_ENERGY_FAULT_RATES: EnergyFaultRates = { malformed: 0.08, duplicate: 0.1, rewrite: 0.08 };

interface Day {
  day: string;
  path: string;
  lines: string[];
  flushed: number;
  fileEndsMidLine: boolean;
  rewrite: boolean;
}
interface Batch {
  facts: SourceFact[];
  faults: SourceFault[];
}
interface Duplicate {
  due: number;
  line: string;
  id: string;
  at: number;
  delay: number;
}

/**
 * The daily energy report (docs/sources.md, row 7): `energy/energy-YYYY-MM-DD.csv`, one row per
 * machine per minute, appended as simulated time passes, a new file at UTC midnight and an .xlsx
 * copy of the finished day. Every random draw happens per interval, in order, so the files and
 * the ledger are the same however `advanceTo` is paced.
 */
export function createEnergyCsvWriter(ctx: WriterContext, rates: Partial<EnergyFaultRates> = {}): SourceWriter {
  const r = { ...DEFAULT_ENERGY_FAULT_RATES, ...rates };
  const rng = createRng(deriveSeed(ctx.seed, ENERGY_WRITER));
  const meters = energyMeters(ctx.floor);
  const dir = join(ctx.dataDir, 'energy');
  let next: number | null = null; // start of the next interval to generate
  let day: Day | null = null;
  let batch: Batch = { facts: [], faults: [] }; // written (or about to be), not yet in the ledger
  let duplicates: Duplicate[] = [];
  const toExport: Day[] = [];
  let written = 0;
  const faults: Record<string, number> = { malformed: 0, duplicate: 0, truncated: 0 };

  function openDay(d: string): Day {
    const path = join(dir, `energy-${d}.csv`);
    // A file left by an earlier run is continued, so that a rewrite keeps its lines.
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const lines = old.split('\n').filter((l, i) => l.length > 0 && !(i === 0 && l === ENERGY_HEADER));
    return {
      day: d,
      path,
      lines,
      flushed: lines.length,
      fileEndsMidLine: old.length > 0 && !old.endsWith('\n'),
      rewrite: false,
    };
  }

  function generate(m: number, d: Day): void {
    const first = d.lines.length;
    for (const meter of meters) {
      const wh = meterReading(meter, rng);
      d.lines.push(energyLine(m, meter.machineId, wh));
      batch.facts.push({ fact: ENERGY_FACT, minute: m, dims: [meter.machineId], value: wh });
    }
    if (rng.chance(r.malformed * ctx.faultRate)) {
      const flavour = rng.pick(MALFORMED_FLAVOURS);
      const line = malformedLine(flavour, m, rng.pick(meters), rng);
      d.lines.push(line);
      batch.faults.push({ kind: 'malformed', detail: flavour, eventAt: m, raw: line });
    }
    if (rng.chance(r.duplicate * ctx.faultRate)) {
      const k = rng.int(0, meters.length - 1);
      const delay = rng.int(1, 15);
      duplicates.push({
        due: m + delay * INTERVAL_MS,
        line: d.lines[first + k],
        id: `energy:${meters[k].machineId}:${m}`,
        at: m,
        delay,
      });
    }
    const due = duplicates.filter((x) => x.due <= m);
    duplicates = duplicates.filter((x) => x.due > m);
    for (const x of due) {
      d.lines.push(x.line);
      batch.faults.push({
        kind: 'duplicate',
        detail: `re-appended ${x.delay} min later`,
        eventId: x.id,
        eventAt: x.at,
        raw: x.line,
      });
    }
    if (rng.chance(r.rewrite * ctx.faultRate)) {
      d.rewrite = true;
      batch.faults.push({
        kind: 'truncated',
        detail: `energy-${d.day}.csv truncated and rewritten with the same lines`,
        eventAt: m,
      });
    }
  }

  /** Make the day's new lines durable (append, or truncate + rewrite), then record them; resumable. */
  async function flush(): Promise<void> {
    const d = day;
    if (d && (d.flushed < d.lines.length || d.rewrite)) {
      try {
        await mkdir(dir, { recursive: true });
        const fh = await open(d.path, d.rewrite ? 'w' : 'a');
        try {
          const fresh = d.rewrite || (d.flushed === 0 && (await fh.stat()).size === 0);
          const from = d.rewrite ? 0 : d.flushed;
          const prefix = fresh ? `${ENERGY_HEADER}\n` : d.fileEndsMidLine ? '\n' : '';
          await fh.write(
            prefix +
              d.lines
                .slice(from)
                .map((l) => `${l}\n`)
                .join(''),
          );
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch (err) {
        throw withContext(err, `energy writer: ${d.path}`);
      }
      written += d.lines.length - d.flushed;
      d.flushed = d.lines.length;
      d.fileEndsMidLine = false;
      d.rewrite = false;
    }
    if (next === null) return;
    try {
      await recordFacts(ctx.pool, ctx.ledgerSchema, {
        source: ENERGY_WRITER,
        facts: batch.facts,
        faults: batch.faults,
        sealedBefore: next,
      });
    } catch (err) {
      throw withContext(err, 'energy writer: ledger');
    }
    for (const f of batch.faults) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
    batch = { facts: [], faults: [] };
  }

  async function exportDays(): Promise<void> {
    while (toExport.length > 0) {
      const d = toExport[0];
      await writeEnergyWorkbook(d.path.replace(/\.csv$/, '.xlsx'), d.lines).catch((err) => {
        throw withContext(err, `energy writer: day-end workbook of ${d.day}`);
      });
      toExport.shift();
    }
  }

  return {
    name: ENERGY_WRITER,
    async advanceTo(t) {
      // Whatever a failed call left unwritten or unrecorded goes first.
      if (batch.facts.length > 0 || batch.faults.length > 0 || (day && day.flushed < day.lines.length)) await flush();
      await exportDays();
      next ??= Math.ceil(ctx.startTime / INTERVAL_MS) * INTERVAL_MS;
      const before = next;
      while (next + INTERVAL_MS <= t) {
        const d = isoDay(next);
        if (day && day.day !== d) {
          await flush();
          toExport.push(day);
          day = null;
          await exportDays();
        }
        day ??= openDay(d);
        generate(next, day);
        next += INTERVAL_MS;
        // Bounded batches: a long back-fill never holds more than a day of facts.
        if (batch.facts.length >= 1440 * meters.length) await flush();
      }
      if (next > before || batch.facts.length > 0) await flush();
    },
    stats: () => ({ written, faults: { ...faults } }),
    async close() {
      await flush();
      await exportDays();
    },
  };
}
