import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { MillraceError } from '../lib/errors.ts';

/** The shipped example: the MyCPU plant's sources (MILLRACE_SOURCES unset). */
export const DEFAULT_SOURCES_FILE = fileURLToPath(new URL('../config/mycpu.sources.json', import.meta.url));

/** One connector of a plant: its kind (ingest/registry.ts), a unique name and the kind's own config. */
const connectorEntry = z.object({
  /** Unique name: checkpoints, dead letters and `millrace status` are keyed by it. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ -'),
  /** Connector kind, e.g. `kafka`, `csv-tail`, `excel`, `postgres-cdc`, `sql-polling`, `rest-poll`, `file-snapshot`. */
  kind: z.string().min(1),
  /** Run this connector only when each named variable has one of the listed values (e.g. `{ "SQL_DIALECT": ["mssql"] }`). */
  when: z.record(z.string(), z.array(z.string())).optional(),
  /** The kind's config (validated by the kind's schema); `${VAR}` is replaced by the deployment's value. */
  config: z.record(z.string(), z.unknown()),
});

export const sourcesFileSchema = z.object({
  /** What the file describes (free text). */
  plant: z.string().optional(),
  connectors: z.array(connectorEntry).min(1),
});

export interface ConnectorSpec {
  name: string;
  kind: string;
  config: unknown;
}

/** A connector kind as far as this file needs it: its config schema. */
export type KindSchemas = Record<string, { config: z.ZodType }>;

type Vars = Readonly<Record<string, string | number | boolean | undefined>>;

const VAR = /\$\{([A-Z_][A-Z0-9_]*)\}/g;
const WHOLE = /^\$\{([A-Z_][A-Z0-9_]*)\}$/;

const fail = (file: string, where: string, message: string) =>
  new MillraceError('CONFIG', `sources file ${file}: ${where}: ${message}`);
const pathText = (p: ReadonlyArray<PropertyKey>) =>
  p
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
    .join('')
    .replace(/^\./, '');

/** Replace `${VAR}` in every string; a string that is one `${VAR}` takes the variable's own type (a number stays a number). */
function interpolate(value: unknown, vars: Vars, file: string, where: string): unknown {
  if (typeof value === 'string') {
    const lookup = (name: string) => {
      const v = vars[name];
      if (v === undefined)
        throw fail(
          file,
          where,
          `\${${name}} is not set (known: ${Object.keys(vars)
            .filter((k) => vars[k] !== undefined)
            .sort()
            .join(', ')})`,
        );
      return v;
    };
    const whole = WHOLE.exec(value);
    if (whole) return lookup(whole[1]);
    return value.replace(VAR, (_, name: string) => String(lookup(name)));
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, vars, file, `${where}[${i}]`));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars, file, `${where}.${k}`)]));
  return value;
}

/**
 * Read a plant's sources file (JSON, or YAML for `.yaml`/`.yml`), keep the connectors whose `when`
 * holds, fill in `${VAR}`s and validate each connector's config against its kind's schema.
 * @throws MillraceError('CONFIG') naming the file and the path of the first bad value.
 */
export function loadSourcesFile(file: string, vars: Vars, kinds: KindSchemas): ConnectorSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MillraceError('CONFIG', `sources file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new MillraceError(
      'CONFIG',
      `sources file ${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
    );
  }
  const parsed = sourcesFileSchema.safeParse(doc);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw fail(file, pathText(i.path) || 'file', i.message);
  }
  const specs: ConnectorSpec[] = [];
  parsed.data.connectors.forEach((entry, i) => {
    const at = `connectors[${i}]`;
    const kind = kinds[entry.kind];
    if (!kind)
      throw fail(
        file,
        `${at}.kind`,
        `unknown kind ${JSON.stringify(entry.kind)}; one of: ${Object.keys(kinds).sort().join(', ')}`,
      );
    for (const [name, allowed] of Object.entries(entry.when ?? {})) {
      if (!allowed.includes(String(vars[name] ?? ''))) return;
    }
    const raw = interpolate(entry.config, vars, file, `${at}.config`);
    const config = kind.config.safeParse(raw);
    if (!config.success) {
      const issue = config.error.issues[0];
      throw fail(
        file,
        `${at}.config${issue.path.length ? `.${pathText(issue.path)}` : ''} (connector ${entry.name})`,
        issue.message,
      );
    }
    if (specs.some((s) => s.name === entry.name))
      throw fail(file, `${at}.name`, `connector name ${JSON.stringify(entry.name)} is used twice`);
    // The spec keeps the interpolated config as written: its kind parses it again (defaults applied) when it starts.
    specs.push({ name: entry.name, kind: entry.kind, config: raw });
  });
  return specs;
}

/** The sources file a deployment uses: MILLRACE_SOURCES, else the shipped MyCPU example. */
export const sourcesFilePath = (configured: string | undefined) =>
  configured ? path.resolve(configured) : DEFAULT_SOURCES_FILE;
