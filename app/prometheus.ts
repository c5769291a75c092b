import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectorStatus } from '../ingest/define-connector.ts';

interface StatusDoc {
  connectors?: ConnectorStatus[];
  loader?: { offsets: number[] };
  batch?: { offsets: number[] };
  speed?: { offsets: Array<number | null> };
  log?: { endOffsets: number[] };
  serving?: { reads: number; sharedReads: number };
}

/**
 * `GET /metrics` in Prometheus text format: per connector events, dead letters, lag and last
 * checkpoint; per log partition the offsets of the log, loader, speed and batch layers. Values
 * are read from the same status the `/status` route serves, at scrape time. `registry` may
 * already hold other metrics (the gateway's per-operation ones); they are served too.
 */
export function createPrometheusRoute(
  status: () => Promise<unknown>,
  registry = new Registry(),
): (req: IncomingMessage, res: ServerResponse) => void {
  collectDefaultMetrics({ register: registry, prefix: 'millrace_process_' });
  let current: StatusDoc = {};
  const connector = (name: string, help: string, pick: (c: ConnectorStatus) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['connector', 'kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of current.connectors ?? []) {
          const v = pick(c);
          if (v !== null) this.set({ connector: c.name, kind: c.kind }, v);
        }
      },
    });
  connector('millrace_connector_events_total', 'Events the connector published to the log.', (c) => c.events);
  connector(
    'millrace_connector_dead_letters_total',
    'Inputs the connector rejected to the dead-letter store.',
    (c) => c.deadLetters,
  );
  connector('millrace_connector_lag', 'Source positions not yet published (messages, rows, bytes).', (c) => c.lag);
  connector('millrace_connector_last_checkpoint_seconds', 'Unix time of the last saved checkpoint.', (c) =>
    c.lastCheckpointAt === null ? null : c.lastCheckpointAt / 1000,
  );
  connector('millrace_connector_error', "1 when the connector's last attempt failed.", (c) => (c.lastError ? 1 : 0));
  connector(
    'millrace_connector_stalled',
    '1 when the connector has been failing for longer than its stall limit (alert on it).',
    (c) => (c.state === 'stalled' ? 1 : 0),
  );
  connector(
    'millrace_connector_failing_seconds',
    'How long the connector has been failing without a success (0 when it succeeds).',
    (c) => (c.failingSince === null || c.failingSince === undefined ? 0 : (Date.now() - c.failingSince) / 1000),
  );
  new Gauge({
    name: 'millrace_offset',
    help: 'Position per log partition of each layer (log end, loader, speed, batch watermark).',
    labelNames: ['layer', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      const layers: Array<[string, Array<number | null> | undefined]> = [
        ['log', current.log?.endOffsets],
        ['loader', current.loader?.offsets],
        ['speed', current.speed?.offsets],
        ['batch', current.batch?.offsets],
      ];
      for (const [layer, offsets] of layers)
        offsets?.forEach((o, p) => o !== null && this.set({ layer, partition: String(p) }, o));
    },
  });
  // Shared reads, where this process answers queries (all in one process; app/status.ts).
  const servingCounter = (name: string, help: string, pick: (x: NonNullable<StatusDoc['serving']>) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        if (current.serving) this.inc(pick(current.serving));
      },
    });
  servingCounter(
    'millrace_serving_reads_total',
    'Series and entity reads run by this process (each one store read of the layers).',
    (x) => x.reads,
  );
  servingCounter(
    'millrace_serving_shared_reads_total',
    'Questions answered by a read an identical question started (reads shared; never one that began before them).',
    (x) => x.sharedReads,
  );
  return (_req, res) => {
    void (async () => {
      try {
        current = (await status()) as StatusDoc;
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      } catch (err) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end(`# status unavailable: ${(err as Error).message}\n`);
      }
    })();
  };
}
