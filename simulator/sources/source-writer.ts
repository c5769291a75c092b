import type pg from 'pg';
import type { FloorMap } from '../floor.ts';
import type { Topic } from '../../log/topic.ts';

/**
 * One live source of the MyCPU factory (docs/sources.md): it writes its store in its native
 * format as simulated time advances, and records in the ledger exactly what it durably wrote.
 * Writers are deterministic for a seed (derive their PRNG with `deriveSeed(seed, name)`).
 */
export interface SourceWriter {
  readonly name: string;
  /** Write everything due up to simulated time `t` (epoch ms); idempotent for a `t` already reached. */
  advanceTo(t: number): Promise<void>;
  /** Counts for progress and tests: rows/messages written, faults injected. */
  stats(): { written: number; faults: Record<string, number> };
  close(): Promise<void>;
}

/** What the factory gives every writer. */
export interface WriterContext {
  seed: number;
  /** Simulated time the run starts at, epoch ms. */
  startTime: number;
  /** Directory for file sources (energy CSV, clock-in workbooks, reference files). */
  dataDir: string;
  floor: FloorMap;
  /** Postgres holding the ledger (and, for the orders source, the orders table). */
  pool: pg.Pool;
  ledgerSchema: string;
  /** Opens a Kafka (or embedded table) topic, for the heat sensors. */
  openTopic: (name: string, partitions: number) => Topic;
  /** Fault rates multiplier: 1 = defaults that make every fault occur within minutes; 0 = none. */
  faultRate: number;
  /**
   * Live runs only: when the run went live (`startTime` may be earlier: the history a source already
   * holds, simulator/live-writers.ts). Ids and sequence numbers that must never repeat across runs derive from
   * it rather than from `startTime` (two runs can share a start: a restart resumes at the seal), and
   * the clock-in writer writes the export of the shift under way then. Unset in a back-fill.
   */
  liveStart?: number;
  log: (line: string) => void;
}
