import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { cliNodeArgs } from '../source-time.mjs';
import { SUBGRAPH_NAMES } from '../../subgraphs/registry.ts';

/** Every role of a split deployment the chaos driver runs in a process of its own (app/modules.ts TARGETS). */
export const ROLES: readonly string[] = [
  'ingest',
  'loader',
  'speed',
  'batch',
  ...SUBGRAPH_NAMES.map((n) => `subgraph:${n}`),
  'gateway',
];
/** One of ROLES, or 'simulator' (the factory: never killed, it is the ground truth). */
export type Role = string;

export interface RoleProcessOptions {
  role: Role;
  /** Repository root (the CLI is `app/cli.ts` under it). */
  root: string;
  /** Environment of the process (the deployment's, plus role-specific ports). */
  env: Record<string, string>;
  /** Where stdout and stderr of every incarnation are appended. */
  logFile: string;
  /** Longest wait for "… is up", ms. Default 300 000 (a role on a busy 2-core machine takes minutes). */
  startTimeoutMs?: number;
  /** Told when an incarnation exits without being asked to (not a kill -9 or stop of ours). */
  onUnplannedExit?: (role: Role, code: number | null, signal: string | null, tail: string) => void;
}

export interface RoleProcess {
  readonly role: Role;
  pid(): number | undefined;
  /** Spawn `millrace up --target <role>` and wait for its "is up" line. */
  start(): Promise<void>;
  /** SIGKILL: no goodbye, no flush. Resolves once the process is gone. */
  kill9(): Promise<{ signal: string | null }>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGSTOP / SIGCONT. */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void;
  /** Last lines of the current incarnation's output. */
  tail(): string;
}

/**
 * One role as its own OS process, the real CLI (not the bin shim, so a kill -9 hits the process
 * that holds the state), with output kept in a log file for the post-mortem of a failed run.
 */
export function createRoleProcess(opts: RoleProcessOptions): RoleProcess {
  let proc: ChildProcess | null = null;
  let out = '';
  let planned = false;
  let exited: Promise<{ code: number | null; signal: string | null }> = Promise.resolve({ code: null, signal: null });
  let file: WriteStream | null = null;
  const cli = [...cliNodeArgs(opts.root), 'up', '--target', opts.role];

  const start = async () => {
    file ??= createWriteStream(opts.logFile, { flags: 'a' });
    out = '';
    planned = false;
    file.write(`\n===== ${new Date().toISOString()} start ${opts.role}\n`);
    const p = spawn(process.execPath, cli, {
      cwd: opts.root,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = p;
    const onData = (d: Buffer) => {
      file?.write(d);
      out = (out + d.toString()).slice(-20_000);
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    exited = new Promise((resolve) =>
      p.on('exit', (code, signal) => {
        file?.write(`===== ${new Date().toISOString()} exit ${opts.role} code=${code} signal=${signal}\n`);
        if (!planned) opts.onUnplannedExit?.(opts.role, code, signal, out.slice(-3000));
        resolve({ code, signal });
      }),
    );
    const deadline = Date.now() + (opts.startTimeoutMs ?? 300_000);
    // The CLI logs "millrace <target> is up" (the gateway: "millrace is up") once every module started.
    while (!/millrace (\S+ )?is up/.test(out)) {
      if (p.exitCode !== null || p.signalCode !== null)
        throw new Error(`${opts.role} exited during start (${p.exitCode ?? p.signalCode}):\n${out.slice(-3000)}`);
      if (Date.now() > deadline)
        throw new Error(`${opts.role} not up within ${opts.startTimeoutMs ?? 300_000} ms:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const alive = () => !!proc && proc.exitCode === null && proc.signalCode === null;

  return {
    role: opts.role,
    pid: () => (alive() ? proc!.pid : undefined),
    start,
    async kill9() {
      if (!alive()) return { signal: null };
      planned = true;
      proc!.kill('SIGKILL');
      return { signal: (await exited).signal };
    },
    async stop() {
      if (!alive()) return proc?.exitCode ?? null;
      planned = true;
      // A stopped process cannot handle SIGTERM; make sure it runs.
      proc!.kill('SIGCONT');
      proc!.kill('SIGTERM');
      const timer = setTimeout(() => proc?.kill('SIGKILL'), 60_000);
      const r = await exited;
      clearTimeout(timer);
      await new Promise<void>((resolve) => (file ? file.end(resolve) : resolve()));
      file = null;
      return r.code;
    },
    signal(sig) {
      if (alive()) proc!.kill(sig);
    },
    tail: () => out.slice(-3000),
  };
}
