import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../lib/free-port.ts';
import { mkdtemp } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The CLI itself (not the bin shim): a kill -9 must hit the process that holds the state.
const CLI = ['--import', 'tsx', path.join(ROOT, 'app', 'cli.ts')];

export { freePort };

export const tempDir = (prefix: string) => mkdtemp(path.join(tmpdir(), `${prefix}-`));

/**
 * The API key every millrace these tests start accepts (every scope), and what clients send with
 * it. The secured gateway refuses requests without a credential; the embedded development token
 * is exercised on its own in embedded.test.ts.
 */
export const E2E_API_KEY = randomBytes(24).toString('base64url');
export const AUTH_HEADERS = { 'x-api-key': E2E_API_KEY } as const;
const E2E_KEYS = `e2e:${E2E_API_KEY}:production:read+quality:read+energy:read+workforce:read+ops:read+pii:read`;

/** Poll `check` until it returns a truthy value or the deadline passes (then fail with `what`). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Running {
  proc: ChildProcess;
  url: string;
  output: () => string;
  /** SIGTERM and wait for exit; resolves the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no goodbye. */
  kill9(): Promise<void>;
}

/** Start the real CLI (`millrace up`) as a user would, and wait until /healthz says ready. */
export async function startMillrace(env: Record<string, string>, args: string[] = []): Promise<Running> {
  const port = env.PORT ?? String(await freePort());
  // Without the test runner's NODE_ENV=test: millrace runs as deployed (production unless set).
  const { NODE_ENV: _runner, ...inherited } = process.env;
  const proc = spawn(process.execPath, [...CLI, 'up', ...args], {
    cwd: ROOT,
    env: { ...inherited, MILLRACE_API_KEYS: E2E_KEYS, ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const gatewayExpected = !args.includes('--target') || args.includes('all') || args.includes('gateway');
  if (gatewayExpected) {
    await waitFor(
      'millrace /healthz',
      async () => {
        if (proc.exitCode !== null) throw new Error(`millrace exited with ${proc.exitCode}:\n${out}`);
        const r = await fetch(`${url}/healthz`).catch(() => null);
        return r?.status === 200;
      },
      120_000,
    );
  }
  return {
    proc,
    url,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Run a CLI command to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, MILLRACE_API_KEY: E2E_API_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return { code, stdout, stderr };
}

export async function gql<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const r = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH_HEADERS },
    body: JSON.stringify({ query, variables }),
  });
  return r.json() as never;
}
