import type { ChaosServices } from './chaos-deployment.ts';
import type { FaultKind, FaultOptions } from './chaos-faults.ts';
import type { Positions } from './chaos-probes.ts';
import type { Role } from './role-process.ts';

export interface ChaosOptions {
  root: string;
  services: ChaosServices;
  /** Seed of the fault schedule (kinds, moments, targets); logged so a run can be replayed. */
  seed: number;
  /** Machining events per real second. Default 5000. */
  rate?: number;
  /** Simulated seconds per real second. Default 10. */
  speed?: number;
  /** Length of the fault phase, ms; every kind in `kinds` is injected at least once even if that takes longer. Default 300 000. */
  durationMs?: number;
  /** Fault kinds to inject. Default every kind. */
  kinds?: readonly FaultKind[];
  /** Quiet time before each fault is drawn uniformly from [minGapMs, maxGapMs]. Defaults 5 000 / 20 000. */
  minGapMs?: number;
  maxGapMs?: number;
  /** Longest wait for recovery from one fault, ms. Default 180 000. */
  recoveryTimeoutMs?: number;
  /** Log positions unchanged this long after the simulator stopped = every connector caught up, ms. Default 20 000. */
  quiesceMs?: number;
  /** `millrace verify --ranges`. Default 10. */
  verifyRanges?: number;
  /** MILLRACE_SLICE of the deployment. Default 500. */
  slice?: number;
  /** Where role logs and the Markdown summary go. */
  outDir: string;
  fault: Omit<FaultOptions, 'root'>;
  /** Keep schemas, topics and the Redis database after the run (post-mortem). Default false. */
  keep?: boolean;
  /** Extra HTTP headers for GraphQL requests (a token once the gateway requires one). */
  headers?: Record<string, string>;
  /** Extra environment of every role and of verify. */
  extraEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface FaultResult {
  kind: FaultKind;
  /** ms since the fault phase started. */
  at: number;
  evidence: string;
  /** Injection → fault lifted (restart done, process resumed), ms. */
  clearMs: number;
  /** Injection → the pipeline progressed and the gateway answered again, ms; null: never within the timeout. */
  recoveryMs: number | null;
  error?: string;
}

export interface ChaosResult {
  seed: number;
  deploymentId: string;
  rate: number;
  speed: number;
  /** Machining events the simulator produced per real second during the fault phase (source topic growth). */
  measuredRate: number;
  faultPhaseMs: number;
  faults: FaultResult[];
  unplannedExits: Array<{ role: Role; code: number | null; signal: string | null; at: number }>;
  eventsLoaded: number;
  verify: {
    code: number | null;
    checked: number;
    mismatches: number;
    bySource: Record<string, { checked: number; mismatches: number }>;
    stderr: string;
  };
  catchUpMs: number;
  reportFile: string;
}
