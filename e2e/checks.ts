import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { AUTH_HEADERS, E2E_API_KEY, gql, runCli, waitFor } from './harness.ts';

export interface D {
  cursor: string;
  partition: number;
  fromOffset: number;
  toOffset: number;
  items: Array<{ value: number }>;
}

export const DELTAS_SUBSCRIPTION = `subscription($after: String) { productionDeltas(after: $after) { cursor partition fromOffset toOffset items { metric station value } } }`;

/** Subscribe through the gateway (graphql-ws) and collect deltas until `enough` says so. */
export async function collectDeltas(
  url: string,
  after: string | null,
  enough: (got: D[]) => boolean,
  timeoutMs = 60_000,
  apiKey = E2E_API_KEY,
): Promise<D[]> {
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { apiKey },
  });
  const got: D[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} deltas in ${timeoutMs} ms`)), timeoutMs);
      const dispose = client.subscribe<{ productionDeltas: D }>(
        { query: DELTAS_SUBSCRIPTION, variables: { after } },
        {
          next: (msg) => {
            if (msg.errors) return reject(new Error(JSON.stringify(msg.errors)));
            got.push(msg.data!.productionDeltas);
            if (enough(got)) {
              clearTimeout(timer);
              dispose();
              resolve();
            }
          },
          error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
          complete: () => resolve(),
        },
      );
    });
  } finally {
    await client.dispose();
  }
  return got;
}

/** Per partition, each delta starts where the previous one ended: nothing missed, nothing twice. */
export function assertContiguous(all: readonly D[]): void {
  const byP = new Map<number, D[]>();
  for (const d of all) byP.set(d.partition, [...(byP.get(d.partition) ?? []), d]);
  for (const [p, list] of byP) {
    for (let i = 1; i < list.length; i++) {
      assert.equal(
        list[i].fromOffset,
        list[i - 1].toOffset,
        `partition ${p}: delta ${i} starts at ${list[i].fromOffset}, previous ended at ${list[i - 1].toOffset}`,
      );
    }
  }
}

/**
 * Live deltas arrive while the simulator runs; a client that disconnects and resumes from its last
 * cursor gets exactly the continuation: per partition, each delta starts where the previous ended.
 */
export async function checkSubscriptionResume(url: string): Promise<void> {
  const first = await collectDeltas(url, null, (g) => g.length >= 5);
  const last = first[first.length - 1].cursor;
  const lastTo = new Map<number, number>();
  for (const d of first) lastTo.set(d.partition, d.toOffset);
  // Let the pipeline move on while we are away.
  const status = async () =>
    (await (await fetch(`${url}/status`, { headers: AUTH_HEADERS })).json()) as { speed: { offsets: number[] } };
  const away = (await status()).speed.offsets.reduce((a, b) => a + (b ?? 0), 0);
  await waitFor(
    'speed layer to move on while disconnected',
    async () => (await status()).speed.offsets.reduce((a, b) => a + (b ?? 0), 0) > away + 50,
  );
  const resumed = await collectDeltas(url, last, (g) =>
    [...lastTo.keys()].every((p) => g.some((d) => d.partition === p)),
  );
  const all = [...first, ...resumed];
  assertContiguous(all);
  assert.ok(resumed.length > 0);
  assert.ok(
    all.some((d) => d.items.length > 0),
    'deltas carry items',
  );
}

/** `millrace verify --json` until it has compared something; any mismatch fails at once. */
/** Every ledger source of a full factory: its facts or entities must reach the served answers. */
export const ALL_LEDGER_SOURCES = [
  'machining',
  'heat-sensors',
  'energy-csv',
  'clockin-excel',
  'tool-api',
  'orders-postgres',
  'sql-engine',
  'reference-files',
] as const;

type VerifyOut = {
  checked: number;
  mismatches: number;
  bySource: Record<string, { checked: number; mismatches: number }>;
};

/**
 * `millrace verify --json` must find zero mismatches, and compare something from each of
 * `sources` (retried until each has sealed something and been compared, within the timeout).
 */
export async function checkVerify(
  env: Record<string, string>,
  timeoutMs = 180_000,
  sources: readonly string[] = [],
): Promise<VerifyOut> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await runCli(['verify', '--json', '--ranges', '8'], env);
    if (r.code === 2 && /VERIFY_NOTHING_TO_CHECK/.test(r.stderr)) {
      if (Date.now() > deadline) throw new Error(`verify had nothing to check within ${timeoutMs} ms: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 2000));
      continue;
    }
    let out: VerifyOut;
    try {
      out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    } catch {
      throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    assert.equal(out.mismatches, 0, `verify found mismatches: ${r.stdout.slice(0, 3000)}`);
    assert.equal(r.code, 0, r.stderr);
    const missing = sources.filter((s) => !(out.bySource[s]?.checked > 0));
    if (out.checked > 0 && missing.length === 0) return out;
    if (Date.now() > deadline)
      throw new Error(
        `verify compared nothing${missing.length ? ` of ${missing.join(', ')}` : ''} within ${timeoutMs} ms: ${JSON.stringify(out.bySource)}`,
      );
    await new Promise((res) => setTimeout(res, 2000));
  }
}

/** A bad request is a GraphQL error with a code, never a stack trace. */
export async function checkBadRequest(url: string): Promise<void> {
  const r = await gql(
    url,
    `{ productionSeries(metric: PARTS_ENTERED, grain: HOUR, from: "yesterday", to: "2026-01-01T00:00:00Z") { total } }`,
  );
  assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(r));
  assert.doesNotMatch(JSON.stringify(r), /\bat .*\.ts:\d+/);
}

/** The generic API: the metric catalogue, any metric by name, and the dead-letter store. */
export async function checkGenericApi(url: string): Promise<void> {
  const r = await gql(
    url,
    `{
    metrics { name domain dimensions aggregate }
    metricSeries(metric: "station_errors", grain: DAY, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { points { dimensions { name value } value cells } freshness { batchOffsets } }
    deadLetters(connector: "machining", first: 5) { edges { cursor node { connector source position reason raw createdAt } } pageInfo { hasNextPage endCursor } }
    stations { id machines { id } zone { id } }
  }`,
  );
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  const d = r.data;
  assert.ok(d.metrics.some((m: { name: string }) => m.name === 'parts_entered'));
  assert.ok(d.metricSeries.points.length > 0);
  assert.deepEqual(
    d.metricSeries.points[0].dimensions.map((x: { name: string }) => x.name),
    ['station', 'errorCode'],
  );
  const letters = d.deadLetters.edges.map(
    (e: { node: { position: string; reason: string; raw: string | null } }) => e.node,
  );
  assert.ok(letters.length > 0, 'the simulator injects malformed messages');
  assert.match(letters[0].position, /:\d+:\d+$/);
  assert.ok(letters[0].reason.length > 0);
  assert.ok(letters[0].raw !== null, 'machining is not a personal source: its raw input is shown');
  // The floor is learned from the ingested floor map, not from a file the product reads.
  assert.ok(d.stations.length >= 12, JSON.stringify(d.stations));
  assert.ok(
    d.stations.some(
      (st: { id: string; machines: Array<{ id: string }> }) => st.id === 'DIE' && st.machines.length === 2,
    ),
  );
  const bad = await gql(
    url,
    `{ metricSeries(metric: "nope", grain: DAY, from: "2020-01-01T00:00:00Z", to: "2021-01-01T00:00:00Z") { metric } }`,
  );
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
}

/** Prometheus text format on /metrics: connector counters, layer offsets and serving reads. */
export async function checkPrometheus(url: string): Promise<void> {
  const r = await fetch(`${url}/metrics`, { headers: AUTH_HEADERS });
  assert.equal(r.status, 200);
  const text = await r.text();
  assert.match(text, /^millrace_connector_events_total\{connector="machining",kind="kafka"\} [1-9]\d*$/m);
  assert.match(text, /^millrace_connector_dead_letters_total\{connector="machining",kind="kafka"\} \d+$/m);
  assert.match(text, /^millrace_offset\{layer="loader",partition="0"\} \d+$/m);
  // The subgraphs run in this process: its reads are counted.
  assert.match(text, /^millrace_serving_reads_total [1-9]\d*$/m);
  assert.match(text, /^millrace_serving_shared_reads_total \d+$/m);
}
