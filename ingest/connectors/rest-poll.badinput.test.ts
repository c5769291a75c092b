import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { badInputSuite } from '../bad-input.testkit.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { restPoll } from './rest-poll.ts';

// rest-poll against a real HTTP server (the source: a tool crib API written by someone else). Items
// are kept as the bytes the API sends, so a wrongly encoded name reaches the connector as it would.
const T0 = Date.UTC(2026, 0, 1);

badInputSuite({
  name: 'rest-poll (tool movements)',
  definition: restPoll as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const items: Array<{ seq: number; bytes: Buffer }> = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/api/tool-movements') return void res.writeHead(404).end();
      const after = Number(url.searchParams.get('after') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const rest = items.filter((i) => i.seq > after);
      const page = rest.slice(0, limit);
      const latest = items.length ? items[items.length - 1].seq : 0;
      const next = rest.length > limit ? page[page.length - 1].seq : null;
      const body = Buffer.concat([
        Buffer.from('{"items":['),
        ...page.flatMap((i, k) => (k ? [Buffer.from(','), i.bytes] : [i.bytes])),
        Buffer.from(`],"next":${next},"latestSeq":${latest}}`),
      ]);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let seq = 100;
    const put = (bytes: Buffer | string) => {
      seq++;
      items.push({ seq, bytes: Buffer.from(bytes) });
      return `/api/tool-movements#${seq}`;
    };
    const movement = (over: Record<string, unknown> = {}) => ({
      seq: seq + 1,
      toolId: `T-${seq + 1}`,
      action: 'out',
      holder: 'E0001',
      at: new Date(T0 + seq * 60_000).toISOString(),
      ...over,
    });
    return {
      config: { baseUrl: url, pollMs: 50, pageSize: 4, retries: 0 },
      source: {
        async append(k) {
          const ids: string[] = [];
          for (let i = 0; i < k; i++) {
            put(JSON.stringify(movement()));
            ids.push(`rest:tool-movement:${seq}`);
          }
          return ids;
        },
        bad: [
          {
            class: 'malformed',
            what: 'the time not a date',
            write: async () => put(JSON.stringify(movement({ at: 'yesterday' }))),
          },
          {
            class: 'malformed',
            what: 'toolId a number',
            write: async () => put(JSON.stringify(movement({ toolId: 42 }))),
          },
          {
            class: 'truncated',
            what: 'an item with only its seq and tool',
            write: async () => put(JSON.stringify({ seq: seq + 1, toolId: 'T-9' })),
          },
          {
            class: 'oversized',
            what: 'a 600 KiB holder',
            write: async () => put(JSON.stringify(movement({ holder: 'E'.repeat(600 << 10) }))),
          },
          {
            class: 'wrongly encoded',
            what: 'a Latin-1 byte in the holder',
            write: async () => {
              const [a, b] = JSON.stringify(movement({ holder: 'M\u00fcller' })).split('\u00fc');
              return put(Buffer.concat([Buffer.from(a), Buffer.from([0xfc]), Buffer.from(b)]));
            },
          },
          {
            class: 'schema-drifted',
            what: 'action renamed direction',
            write: async () => put(JSON.stringify(movement({ action: undefined, direction: 'out' }))),
          },
          {
            class: 'schema-drifted',
            what: 'an unknown action',
            write: async () => put(JSON.stringify(movement({ action: 'repair' }))),
          },
        ],
        cleanup: () => new Promise<void>((r) => server.close(() => r())),
      },
    };
  },
});
