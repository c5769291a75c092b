// The newest modification time of the product's sources (what dist/ is built from): bin/millrace.js
// compares it with dist/build-info.json so that an edit made after the build is never run stale.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const SOURCE_DIRS = [
  'app',
  'ingest',
  'log',
  'metrics',
  'loader',
  'speed',
  'batch',
  'serving',
  'resolvers',
  'subgraphs',
  'gateway',
  'simulator',
  'verify',
  'lib',
  'store',
  'schema',
];
const SOURCE = /\.(ts|graphql|json|mjs)$/;

/** Newest mtime (ms) of the source files under the product folders of `root`. */
export function newestSource(root) {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (SOURCE.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(root, d));
  return newest;
}

/** True when `root`'s dist/ was built from sources at least as new as the ones in the tree. */
export function distIsCurrent(root) {
  try {
    if (!existsSync(path.join(root, 'dist', 'app', 'cli.js'))) return false;
    const info = JSON.parse(readFileSync(path.join(root, 'dist', 'build-info.json'), 'utf8'));
    return info.newestSource >= newestSource(root);
  } catch {
    return false;
  }
}

/**
 * Node arguments that run the CLI of `root`: the compiled one when dist/ is current, else the
 * TypeScript one through tsx (so an edit made after the build is never run stale).
 */
export function cliNodeArgs(root) {
  return distIsCurrent(root)
    ? [path.join(root, 'dist', 'app', 'cli.js')]
    : ['--import', 'tsx', path.join(root, 'app', 'cli.ts')];
}
