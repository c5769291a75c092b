import type pg from 'pg';
import type { z } from 'zod';
import type { Topic } from '../log/topic.ts';
import type { Envelope } from './envelope.ts';
import type { ConnectorState } from './connector-health.ts';
import type { SkipResult } from './skip-position.ts';

/** What every connector gets from the wiring module. */
export interface ConnectorContext {
  /** Unique connector name (checkpoints and dead letters are keyed by it). */
  name: string;
  pool: pg.Pool;
  schema: string;
  /** The log every connector publishes to. */
  log: Topic;
  /** Opens a source topic (Kafka in production, a Postgres table topic embedded). */
  openTopic: (name: string, partitions: number) => Topic;
  onError: (err: unknown) => void;
  /**
   * The deployment's prefix (MILLRACE_PREFIX): names of shared resources a connector creates
   * (consumer groups, replication slots) start with it. Default `'millrace'`.
   */
  prefix?: string;
  /** Failing this long without a success makes the connector `stalled`. Default 30 000 ms. */
  stallAfterMs?: number;
}

export interface ConnectorStatus {
  name: string;
  kind: string;
  events: number;
  deadLetters: number;
  /** Source positions not yet published (messages, rows, bytes — per kind). */
  lag: number;
  lastCheckpointAt: number | null;
  /** Saved position per source partition, and the source's end per partition (same units). */
  positions: number[];
  sourceEnd: number[];
  /** Why the last attempt failed; null once one succeeds. */
  lastError: string | null;
  /** `stalled`: failing for longer than `stallAfterMs`; `retrying`: failing, not yet for long. */
  state: ConnectorState;
  /** Start of the current run of failures, epoch ms. */
  failingSince: number | null;
}

/** The lifecycle of a running connector. */
export interface Connector {
  readonly name: string;
  readonly kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<ConnectorStatus>;
}

export interface ConnectorDefinition<C extends z.ZodType> {
  kind: string;
  config: C;
  create(config: z.infer<C>, ctx: ConnectorContext): Connector;
  /**
   * Parse a dead letter's raw input again with the current code (after a fix): an envelope to
   * publish, or the reason it is still rejected. Kinds without it cannot replay.
   */
  reparse?(config: z.infer<C>, raw: string, position: string): Envelope | string;
  /**
   * `millrace connectors skip --to POSITION`: move a connector stuck on a position it cannot read
   * past it, the range a dead letter (skip-position.ts). Kinds without it keep no position one
   * record can poison (a whole-file snapshot is re-read per version, a sheet per diff).
   */
  skip?(config: z.infer<C>, target: SkipTarget, to: string, note: string): Promise<SkipResult>;
}

/** Whose saved position `skip` moves. */
export interface SkipTarget {
  pool: pg.Pool;
  schema: string;
  /** The connector's name. */
  connector: string;
}

/** Declare a connector kind: its config schema and how to build it. Registered by `kind`. */
export function defineConnector<C extends z.ZodType>(def: ConnectorDefinition<C>): ConnectorDefinition<C> {
  return Object.freeze(def);
}
