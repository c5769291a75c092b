import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpRoutes, type HealthCheck } from './http-routes.ts';

async function healthz(health: HealthCheck, path = '/healthz') {
  const routes = createHttpRoutes({ health, log: () => undefined });
  const server = createServer((req, res) => {
    if (!routes(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    return { code: res.status, body: (await res.json()) as Record<string, unknown> };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('/healthz', () => {
  it('is 200 "ok" when ready with nothing degraded', async () => {
    const r = await healthz(async () => ({ ready: true, components: { ingest: true } }));
    assert.equal(r.code, 200);
    assert.equal(r.body.status, 'ok');
  });

  it('is 200 "degraded" naming a stalled connector and why', async () => {
    const degraded = [
      {
        component: 'connector:machining',
        reason: 'stalled since 2026-12-05T18:00:00.000Z: Snappy compression not implemented',
      },
    ];
    const r = await healthz(async () => ({ ready: true, components: { ingest: true }, degraded }));
    assert.equal(r.code, 200);
    assert.equal(r.body.status, 'degraded');
    assert.deepEqual(r.body.degraded, degraded);
  });

  it('is 503 "unavailable" when not ready', async () => {
    const r = await healthz(async () => ({ ready: false, components: { ingest: false } }));
    assert.equal(r.code, 503);
    assert.equal(r.body.status, 'unavailable');
  });
});

describe('paths', () => {
  it('are the ones the URL parser makes of the request line (dot segments, a query string, double slashes)', async () => {
    const routes = createHttpRoutes({ health: async () => ({ ready: true, components: {} }), log: () => undefined });
    const server = createServer((req, res) => {
      if (!routes(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    // node:http sends the path as written (fetch would normalise it first).
    const status = (path: string) =>
      new Promise<number>((resolve, reject) =>
        request({ host: '127.0.0.1', port, path }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end(),
      );
    try {
      for (const path of [
        '/healthz',
        '/healthz?x=1',
        '/a/../healthz',
        '/./healthz',
        '//healthz',
        '/%68ealthz',
        '/healthz/',
      ]) {
        const want = new URL(path, 'http://local').pathname === '/healthz' ? 200 : 404;
        assert.equal(await status(path), want, path);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
