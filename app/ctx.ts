import type pg from 'pg';
import type { Config } from './config.ts';
import type { Topic } from '../log/topic.ts';
import type { SpeedStore } from '../speed/store.ts';
import type { Serving } from '../serving/types.ts';
import type { Connector } from '../ingest/define-connector.ts';

/** A running piece of the system. */
export interface Service {
  name: string;
  stop(): Promise<void>;
}

/** Shared state the modules build up (each field is made by one module). */
export interface Ctx {
  config: Config;
  log: (line: string) => void;
  pool?: pg.Pool;
  databaseUrl?: string;
  topics?: { log: Topic; open: (name: string, partitions: number) => Topic };
  store?: SpeedStore;
  serving?: Serving;
  connectors?: Connector[];
  applierKick?: () => void;
  subgraphUrls?: Array<{ name: string; url: string; wsUrl?: string; sdl: string }>;
  services: Service[];
  ready: Map<string, boolean>;
}
