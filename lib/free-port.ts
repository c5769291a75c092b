import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it): for tests, benches and the chaos deployment. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
