import { createServer, type Server } from 'node:http';
import type { Probes } from './chaos-probes.ts';

/**
 * `millrace verify` asks one URL for both GraphQL and `/status` (its catch-up barrier). A gateway
 * started alone (`--target gateway`) has no store, log or connectors, so its `/status` carries no
 * offsets. This shim answers `/status` with the same document shape from Postgres, Redis and the
 * topics (the Kafka connectors' checkpoints against their source topics' ends included), and passes
 * everything else through to the real gateway untouched.
 */
export async function startStatusShim(o: {
  gatewayUrl: string;
  probes: Probes;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    try {
      if (req.method === 'GET' && req.url === '/status') {
        const v = await o.probes.vectors();
        const body = JSON.stringify({
          connectors: v.connectors,
          log: { endOffsets: v.logEnd },
          loader: { offsets: v.loader },
          speed: { offsets: v.speed },
          batch: { offsets: v.batch },
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      ) as Record<string, string>;
      const up = await fetch(`${o.gatewayUrl}${req.url}`, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      res
        .writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' })
        .end(Buffer.from(await up.arrayBuffer()));
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`status shim: ${(err as Error).message}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
