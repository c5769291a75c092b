import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.ts';

/** Base URL of the running gateway (MILLRACE_URL, else http://HOST:PORT). */
export function gatewayUrl(c: Config): string {
  return (c.MILLRACE_URL ?? `http://${c.HOST}:${c.PORT}`).replace(/\/$/, '');
}

/** What the embedded `up` wrote for other CLI processes (its Postgres URL and development token). */
export async function runtimeInfo(c: Config): Promise<{ databaseUrl: string; port: number; devToken?: string }> {
  const file = path.join(path.resolve(c.MILLRACE_DATA_DIR), 'runtime.json');
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new Error(`no DATABASE_URL and no ${file}: is \`millrace up\` running with this MILLRACE_DATA_DIR?`);
  }
}

/**
 * The credential the CLI sends: MILLRACE_API_KEY, else MILLRACE_TOKEN, else the development
 * token of an embedded `up` with this MILLRACE_DATA_DIR; none when there is none of them.
 */
export async function authHeaders(c: Config): Promise<Record<string, string>> {
  if (c.MILLRACE_API_KEY) return { 'x-api-key': c.MILLRACE_API_KEY };
  if (c.MILLRACE_TOKEN) return { authorization: `Bearer ${c.MILLRACE_TOKEN}` };
  const dev = await runtimeInfo(c).then(
    (i) => i.devToken,
    () => undefined,
  );
  return dev ? { authorization: `Bearer ${dev}` } : {};
}

export async function fetchStatus(c: Config): Promise<StatusDoc> {
  const res = await fetch(`${gatewayUrl(c)}/status`, {
    headers: await authHeaders(c),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status === 401 || res.status === 403) {
    throw new Error(
      `GET /status answered ${res.status}: set MILLRACE_TOKEN or MILLRACE_API_KEY to a credential with scope ops:read`,
    );
  }
  if (!res.ok) throw new Error(`GET /status answered ${res.status}`);
  return (await res.json()) as StatusDoc;
}

export interface StatusDoc {
  connectors?: Array<{ name: string; positions: number[]; sourceEnd: number[] }>;
  log?: { endOffsets: number[] };
  loader?: { offsets: number[] };
  speed?: { offsets: Array<number | null> };
  batch?: { offsets: number[] };
}

const reached = (have: Array<number | null> | undefined, want: number[] | undefined) =>
  !!have && !!want && want.every((w, i) => (have[i] ?? 0) >= w);

/**
 * Barrier for verify: everything produced before the call is served afterwards. Targets are taken
 * once and only ever approached (the simulator keeps producing), so it ends under steady load:
 * connectors reach the source ends seen now → loader reaches the log end seen then → speed
 * reaches the loader offsets seen then.
 */
export async function waitForCatchUp(c: Config, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const until = async (what: string, ok: (s: StatusDoc) => boolean) => {
    for (;;) {
      const s = await fetchStatus(c);
      if (ok(s)) return s;
      if (Date.now() > deadline)
        throw new Error(`pipeline did not catch up within ${timeoutMs} ms (${what}): ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const first = await fetchStatus(c);
  const sources = (first.connectors ?? []).map((k) => ({ name: k.name, end: k.sourceEnd }));
  await until('connectors', (s) =>
    sources.every((t) => reached(s.connectors?.find((k) => k.name === t.name)?.positions, t.end)),
  );
  const logEnd = (await fetchStatus(c)).log?.endOffsets;
  const afterLoader = await until('loader', (s) => reached(s.loader?.offsets, logEnd));
  const loaded = afterLoader.loader?.offsets;
  // A partition is served up to max(speed offset, batch watermark).
  await until('speed', (s) =>
    reached(
      s.speed?.offsets?.map((o, p) => Math.max(o ?? 0, s.batch?.offsets[p] ?? 0)),
      loaded,
    ),
  );
}
