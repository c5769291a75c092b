import { connect, createServer, type Server, type Socket } from 'node:net';

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`: the one address in front of the backends. */
  url: string;
  port: number;
  /** Connections handed to each backend so far, by `host:port`. */
  served: Map<string, number>;
  close(): Promise<void>;
}

/**
 * The "one address" in front of a pair of gateways or subgraphs, as a TCP load balancer (HAProxy in
 * `mode tcp`, a cloud L4 balancer) would be: each new connection goes to the next backend in turn;
 * a backend that refuses the connection is skipped (a passive health check), so a killed instance
 * gets no new connections. Bytes are piped untouched, so HTTP keep-alive and WebSocket upgrades
 * (graphql-ws) pass as they are; a connection open to an instance that dies is closed, and the
 * client sees a dropped connection and retries. Written here because nothing in node_modules
 * balances TCP (http-proxy-agent is a client-side agent), and a test helper needs no dependency.
 */
export async function startRoundRobinProxy(backends: number[], port = 0): Promise<RoundRobinProxy> {
  let next = 0;
  const open = new Set<Socket>();
  const served = new Map<string, number>();

  const dial = (client: Socket, tries: number) => {
    if (tries >= backends.length) return void client.destroy();
    const target = backends[next++ % backends.length];
    const upstream = connect(target, '127.0.0.1');
    open.add(upstream);
    upstream.once('close', () => open.delete(upstream));
    upstream.once('connect', () => {
      const key = `127.0.0.1:${target}`;
      served.set(key, (served.get(key) ?? 0) + 1);
      upstream.removeAllListeners('error');
      client.pipe(upstream).pipe(client);
      // Either side gone: close the other (a client whose backend died sees its connection drop).
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    // Refused before connecting: that backend is down; the same client tries the next one.
    upstream.once('error', () => {
      upstream.destroy();
      if (!client.destroyed) dial(client, tries + 1);
    });
  };

  const server: Server = createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    dial(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
