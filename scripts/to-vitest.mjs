#!/usr/bin/env node
// Convert node:test files to vitest: `node scripts/to-vitest.mjs [files or dirs…]` (default: every
// *.test.ts and *.contract.ts/*.testkit.ts outside node_modules and dist). Re-runnable: a file
// already on vitest is left as it is, so it can be run again over tests added later.
//
// What changes: the `node:test` import becomes a `vitest` import with node:test's names kept as
// aliases (`before` → `beforeAll as before`, `after` → `afterAll as after`), so test bodies stay
// as written; `node:assert` stays (vitest runs it as is). Hook and suite semantics match: a
// node:test `before`/`after` runs once around its suite (or file), as vitest's beforeAll/afterAll.
// What it refuses (prints and leaves the file unchanged): node:test features vitest has no
// same-named counterpart for — `mock`, `run`, `snapshot`, `suite`, `todo` imports, and a test
// context parameter (`(t) =>` using t.skip, t.diagnostic, …) — those need a hand conversion.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const RENAME = {
  before: 'beforeAll',
  after: 'afterAll',
  beforeEach: 'beforeEach',
  afterEach: 'afterEach',
  describe: 'describe',
  it: 'it',
  test: 'test',
};
const IMPORT = /import\s*\{([^}]*)\}\s*from\s*['"]node:test['"];?/g;
const TEST_FILE = /\.(test|contract|testkit)\.ts$/;

function files(args) {
  const roots = args.length ? args : ['.'];
  const out = [];
  const walk = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      if (/(^|\/)(node_modules|dist|\.git)$/.test(p)) return;
      for (const e of readdirSync(p)) walk(path.join(p, e));
    } else if (TEST_FILE.test(p)) out.push(p);
  };
  for (const r of roots) walk(r);
  return out.sort();
}

/** The converted text, or null when there is nothing to do, or a string[] of reasons it cannot be converted. */
export function convert(text) {
  if (!/from\s*['"]node:test['"]/.test(text)) return null;
  const problems = [];
  const out = text.replace(IMPORT, (_, names) => {
    const specs = names
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [name, alias] = s.split(/\s+as\s+/);
        const target = RENAME[name];
        if (!target) {
          problems.push(`imports ${name} from node:test (no vitest counterpart of that name)`);
          return s;
        }
        const local = alias ?? name;
        return target === local ? target : `${target} as ${local}`;
      });
    return `import { ${specs.join(', ')} } from 'vitest';`;
  });
  if (/\b(it|test)\([^,]+,\s*(async\s*)?\(\s*[a-z]\w*\s*\)\s*=>/.test(text))
    problems.push('a test takes a context parameter (t.skip, t.diagnostic, …): convert it by hand');
  return problems.length ? problems : out;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('to-vitest.mjs')) {
  let changed = 0;
  let refused = 0;
  for (const f of files(process.argv.slice(2))) {
    const r = convert(readFileSync(f, 'utf8'));
    if (r === null) continue;
    if (Array.isArray(r)) {
      refused++;
      process.stderr.write(`${f}: left on node:test: ${r.join('; ')}\n`);
      continue;
    }
    writeFileSync(f, r);
    changed++;
    process.stdout.write(`${f}\n`);
  }
  process.stderr.write(`to-vitest: ${changed} converted, ${refused} left for a hand conversion\n`);
  process.exitCode = refused ? 1 : 0;
}
