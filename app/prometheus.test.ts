import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrometheusRoute } from './prometheus.ts';

describe('GET /metrics', () => {
  it('exposes a stalled connector as an alertable gauge, with how long it has failed', async () => {
    const failingSince = Date.now() - 90_000;
    const status = async () => ({
      connectors: [
        {
          name: 'machining',
          kind: 'kafka',
          events: 10,
          deadLetters: 1,
          lag: 9600,
          lastCheckpointAt: null,
          positions: [],
          sourceEnd: [],
          lastError: 'Snappy compression not implemented',
          state: 'stalled',
          failingSince,
        },
        {
          name: 'energy',
          kind: 'csv-tail',
          events: 5,
          deadLetters: 0,
          lag: 0,
          lastCheckpointAt: null,
          positions: [],
          sourceEnd: [],
          lastError: null,
          state: 'running',
          failingSince: null,
        },
      ],
    });
    const route = createPrometheusRoute(status);
    const server = createServer(route);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const body = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
      assert.match(body, /^millrace_connector_stalled\{connector="machining",kind="kafka"\} 1$/m);
      assert.match(body, /^millrace_connector_stalled\{connector="energy",kind="csv-tail"\} 0$/m);
      assert.match(body, /^millrace_connector_error\{connector="machining",kind="kafka"\} 1$/m);
      const secs = Number(
        /^millrace_connector_failing_seconds\{connector="machining",kind="kafka"\} ([\d.]+)$/m.exec(body)?.[1],
      );
      assert.ok(secs >= 90, `failing seconds ${secs}`);
      assert.match(body, /^millrace_connector_failing_seconds\{connector="energy",kind="csv-tail"\} 0$/m);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('counts the reads of a process that answers queries, and how many questions shared one', async () => {
    let serving: { reads: number; sharedReads: number } | undefined = { reads: 12, sharedReads: 30 };
    const server = createServer(createPrometheusRoute(async () => ({ serving })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
    try {
      let body = await scrape();
      assert.match(body, /^millrace_serving_reads_total 12$/m);
      assert.match(body, /^millrace_serving_shared_reads_total 30$/m);
      serving = { reads: 15, sharedReads: 41 };
      body = await scrape();
      assert.match(body, /^millrace_serving_reads_total 15$/m);
      assert.match(body, /^millrace_serving_shared_reads_total 41$/m);
      // A process that answers no queries itself (a gateway in front of remote subgraphs) counts none.
      serving = undefined;
      body = await scrape();
      assert.match(body, /^millrace_serving_reads_total 0$/m);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
