import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { within } from './testing/start-fixture-stack.ts';

// The Hive Gateway runtime and Apollo Server both install SIGINT/SIGTERM handlers of their own;
// these tests pin down that the app's shutdown stays the app's, and that close() leaves nothing
// holding the event loop open.
test('the process exits after close() on SIGTERM, and dies on SIGTERM when it installed no handler', async () => {
  const script = fileURLToPath(new URL('./testing/start-fixture-stack.ts', import.meta.url));
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const lines = createInterface({ input: child.stdout! });
    const out: string[] = [];
    const ready = new Promise<void>((resolve) =>
      lines.on('line', (l) => (out.push(l), l.startsWith('READY') && resolve())),
    );
    try {
      await within(ready, 'the child to start', 30_000);
      child.kill('SIGTERM');
      // Well under graphql-ws's 3 s lazy-close timer, which would otherwise hold the loop open.
      const result = await within(exited, 'the child to exit', 2500);
      return { ...result, out };
    } finally {
      child.kill('SIGKILL');
    }
  };
  const graceful = await run(['--close-on-sigterm']);
  assert.deepEqual(
    [graceful.code, graceful.signal],
    [0, null],
    `exited by itself after close(): ${graceful.out.join(' | ')}`,
  );
  assert.ok(graceful.out.includes('CLOSED'));
  const killed = await run([]);
  assert.equal(killed.signal, 'SIGTERM', 'the runtime must not swallow SIGTERM');
});
