// `npm run build` (and `prepare`): compile the product to JavaScript in dist/ (tsconfig.build.json),
// copy the files it reads beside its modules (SDL, the floor map, the thread boot file), and record
// the newest source time so that bin/millrace.js runs dist/ only while it matches the sources.
// Type errors do not stop the build (tsc still emits; `npm run typecheck` is the check for them).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestSource } from './source-time.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const started = Date.now();
const newest = newestSource(root);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without dev dependencies: no compiler, so bin/millrace.js runs the sources through tsx.
  process.stderr.write('build: typescript is not installed; skipped (the CLI runs app/cli.ts through tsx)\n');
  process.exit(0);
}
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  cwd: root,
  encoding: 'utf8',
});
// tsc: 0 = clean, 2 = emitted with type errors, anything else = nothing (or not all) emitted.
if (r.status !== 0 && r.status !== 2) {
  process.stderr.write(r.stdout + r.stderr);
  process.stderr.write(`build: tsc failed (exit ${r.status})\n`);
  process.exit(1);
}
if (r.status === 2)
  process.stderr.write(
    `build: emitted with type errors (${(r.stdout.match(/error TS/g) ?? []).length}; see npm run typecheck)\n`,
  );

for (const asset of ['schema', 'config', 'simulator/floor-map.json', 'lib/ts-worker-boot.mjs']) {
  mkdirSync(path.dirname(path.join(dist, asset)), { recursive: true });
  cpSync(path.join(root, asset), path.join(dist, asset), { recursive: true });
}
writeFileSync(
  path.join(dist, 'build-info.json'),
  `${JSON.stringify({ newestSource: newest, builtAt: new Date().toISOString() })}\n`,
);
process.stderr.write(`build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
