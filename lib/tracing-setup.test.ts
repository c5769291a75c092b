import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'vitest';
import { setupTracing, shutdownTracing } from './tracing-setup.ts';
import { traced, tracingEnabled } from './tracing.ts';

describe('setupTracing', () => {
  it('exports spans over OTLP/HTTP to MILLRACE_OTEL_ENDPOINT and records nothing before set-up or after shutdown', async () => {
    const bodies: { path: string; type: string; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({
          path: req.url ?? '',
          type: req.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      assert.equal(tracingEnabled(), false);
      assert.equal(await traced('before-setup', {}, async () => 1), 1);

      setupTracing({ serviceName: 'millrace-otlp-test', endpoint: `http://127.0.0.1:${port}/v1/traces` });
      assert.equal(tracingEnabled(), true);
      await traced('outer-span', { 'millrace.metric': 'parts_exited' }, () =>
        traced('inner-span', {}, async () => undefined),
      );
      await assert.rejects(
        traced('failing-span', {}, async () => {
          throw Object.assign(new Error('no'), { code: 'DEADLINE_EXCEEDED' });
        }),
      );
      await shutdownTracing();
      assert.equal(tracingEnabled(), false);

      const sent = bodies.filter((b) => b.path === '/v1/traces');
      assert.ok(sent.length > 0, 'nothing was exported');
      const all = sent.map((b) => b.body).join('\n');
      for (const name of ['outer-span', 'inner-span', 'failing-span', 'millrace-otlp-test', 'DEADLINE_EXCEEDED']) {
        assert.ok(all.includes(name), `${name} missing from the export`);
      }
      assert.ok(!all.includes('before-setup'), 'a span before set-up was recorded');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
