#!/usr/bin/env node
// The installed `millrace` command. It runs the compiled CLI (dist/app/cli.js, built by `npm run
// build` / `prepare`) when dist/ matches the sources, else the TypeScript CLI (app/cli.ts) through
// tsx: `millrace status` then answers in a fraction of a second instead of paying seconds of
// TypeScript start-up, and an edit made after the build is never run stale.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8Flags from './v8-flags.json' with { type: 'json' };
import { distIsCurrent } from '../scripts/source-time.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const distCli = fileURLToPath(new URL('../dist/app/cli.js', import.meta.url));

// V8 flags per command (V8 sizes its heap at start-up: they cannot be set later). The back-fill
// allocates millions of short-lived messages; a 32 MiB semi-space (default 16) lets far fewer of
// them survive into the old generation: 10 simulated days went from 35.7 to 33.0 s, with 13.9 →
// 11.9 µs CPU per message. A 512 MiB old-space limit (default: a share of the machine's memory,
// ~4 GiB here) makes V8 collect before the heap balloons: 30 days peaked at 442 MiB RSS instead
// of 681, same wall time and CPU; the live heap stays near 130 MiB (bench/backfill.ts, which runs
// itself with the same flags).
const command = process.argv[2];
const flags = Object.hasOwn(v8Flags, command) ? v8Flags[command] : [];
const compiled = distIsCurrent(root);
// The project's pinned runtime (devDependency `node`, Node 22) when this process runs an older
// one: `node bin/millrace.js` on a machine's Node 20 still runs millrace on Node 22. npm scripts
// and npx already find it first on PATH (node_modules/.bin).
const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
const runtime = Number(process.versions.node.split('.')[0]) < 22 && existsSync(pinned) ? pinned : process.execPath;

if (compiled && flags.length === 0 && runtime === process.execPath) {
  // No flags to set at start-up: run the CLI in this process (one Node start instead of two).
  await import(distCli);
} else {
  // A child process: V8 flags, or tsx's loader kept out of this shim.
  const entry = compiled
    ? [distCli]
    : ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../app/cli.ts', import.meta.url))];
  const child = spawn(runtime, [...flags, ...entry, ...process.argv.slice(2)], { stdio: 'inherit' });

  // Signals sent to this pid (a process manager, `kill`) must reach the CLI's graceful shutdown.
  // A terminal's Ctrl-C reaches both processes; the CLI ignores the second one.
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));

  child.on('error', (err) => {
    process.stderr.write(`millrace: cannot start node: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal, so callers see what really happened.
      for (const s of forwarded) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
