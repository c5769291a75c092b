import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../e2e/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Role {
  name: string;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * One role of a split deployment in its own process, as an operator runs it (authentication off
 * unless the caller's env sets MILLRACE_AUTH: the bench measures serving, issue 11 measures auth)
 * (`millrace up --target <role>`), ready when its endpoint answers.
 */
export async function startRole(
  target: 'subgraph:production' | 'gateway',
  env: Record<string, string>,
  name: string = target,
  /** Another source tree to run the role from (an A/B of two checkouts), and node flags of its own. */
  from: { root?: string; nodeArgs?: string[] } = {},
): Promise<Role> {
  const root = from.root ?? ROOT;
  const port = await freePort();
  const roleEnv = target === 'gateway' ? { PORT: String(port) } : { SUBGRAPH_PORT: String(port) };
  const proc = spawn(
    process.execPath,
    // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS refuses) profiles the roles.
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ...(from.nodeArgs ?? []),
      '--import',
      'tsx',
      path.join(root, 'app', 'cli.ts'),
      'up',
      '--target',
      target,
    ],
    {
      cwd: root,
      env: { ...process.env, MILLRACE_AUTH: 'off', ...env, ...roleEnv, MILLRACE_SIMULATOR: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitFor(
    `${name} on ${url}`,
    async () => {
      if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${out}`);
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
      }).catch(() => null);
      return r?.status === 200;
    },
    120_000,
  );
  return { name, url, proc, stop: stopper(proc, exited) };
}

/**
 * The queries scenario's ceilings (bench/floor-server.ts): `http` answers `arg`'s bytes (a file)
 * from node:http, `apollo` the same object through Apollo Server, neither reading a store; `proxy`
 * passes each request to the subgraph at `arg` (a URL) and its answer back, as a gateway with
 * nothing in it would.
 */
export async function startFloor(mode: 'http' | 'apollo' | 'proxy', arg: string): Promise<Role> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'floor-server.ts'), mode, arg], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    proc.once('exit', (code) => reject(new Error(`floor server (${mode}) exited with ${code}:\n${out}`)));
  });
  return { name: `floor ${mode}`, url: `http://127.0.0.1:${port}/graphql`, proc, stop: stopper(proc, exited) };
}

/** SIGTERM, then wait for the exit (`exited`, listened for since the spawn); nothing if it has exited. */
function stopper(proc: ChildProcess, exited: Promise<void>): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
  };
}
