import { it } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { createPrometheusRoute } from './prometheus.ts';
import { loadConfig } from './config.ts';
import { DEFAULT_ALERT_THRESHOLDS } from '../resolvers/alerts/alert-types.ts';

// ops/prometheus/millrace-alerts.yml mirrors the connector rules of the server's alert engine
// (resolvers/alerts/create-alert-engine.ts): same defaults, and only metrics /metrics exposes.
const rules: { alert: string; expr: string }[] = parse(
  readFileSync(new URL('../ops/prometheus/millrace-alerts.yml', import.meta.url), 'utf8'),
).groups.flatMap((g: { rules: unknown[] }) => g.rules);
const rule = (name: string) => {
  const r = rules.find((x) => x.alert === name);
  assert.ok(r, `rule ${name} in millrace-alerts.yml`);
  return r;
};
const threshold = (expr: string) => Number(/>\s*(\d+)\s*$/.exec(expr)?.[1]);

it('the connector rules use the MILLRACE_ALERT_* defaults the alert engine uses', () => {
  const c = loadConfig({});
  assert.equal(threshold(rule('MillraceConnectorLagging').expr), c.MILLRACE_ALERT_CONNECTOR_LAG);
  assert.equal(threshold(rule('MillraceConnectorStalled').expr), c.MILLRACE_ALERT_STALL_SEC);
  assert.deepEqual(DEFAULT_ALERT_THRESHOLDS, {
    zoneMaxC: c.MILLRACE_ALERT_ZONE_MAX_C,
    noExitMinutes: c.MILLRACE_ALERT_NO_EXIT_MIN,
    connectorLag: c.MILLRACE_ALERT_CONNECTOR_LAG,
    stallSeconds: c.MILLRACE_ALERT_STALL_SEC,
  });
});

it('every metric the rules read is one GET /metrics exposes', async () => {
  const status = async () => ({
    connectors: [
      {
        name: 'machining',
        kind: 'kafka',
        events: 1,
        deadLetters: 0,
        lag: 0,
        lastCheckpointAt: Date.now(),
        positions: [0],
        sourceEnd: [0],
        lastError: null,
        state: 'running',
        failingSince: null,
      },
    ],
    log: { endOffsets: [5] },
    loader: { offsets: [5] },
    speed: { offsets: [5] },
    batch: { offsets: [5], refreshedAt: null, maxEventTime: null },
  });
  const server = createServer(createPrometheusRoute(status));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const body = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
    const exposed = new Set([...body.matchAll(/^(millrace_\w+)[{ ]/gm)].map((m) => m[1]));
    const used = new Set(rules.flatMap((r) => [...r.expr.matchAll(/millrace_\w+/g)].map((m) => m[0])));
    assert.ok(used.size >= 4, [...used].join(', '));
    for (const name of used) assert.ok(exposed.has(name), `${name} is not exposed; /metrics has ${[...exposed]}`);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
