// The newest modification time of the product's sources (what dist/ is built from): bin/millrace.js
// compares it with dist/build-info.json so that an edit made after the build is never run stale.
import { readdirSync, statSync } from 'node:fs';
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
