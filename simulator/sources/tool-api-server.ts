import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Rng } from '../prng.ts';
import type { ToolApiStore } from './tool-api-store.ts';

/** Per-request fault rates of the API, before the writer context's `faultRate` multiplier. */
export interface ToolApiRequestFaults {
  /** Share of requests answered with HTTP 500. Default 0.03. */
  error500Rate?: number;
  /** Share of requests left hanging for `hangMs`, then closed without an answer. Default 0.01. */
  timeoutRate?: number;
  /** How long a hanging request hangs, ms: longer than any client timeout. Default 10 000. */
  hangMs?: number;
}

export const DEFAULT_TOOL_API_REQUEST_FAULTS: Required<ToolApiRequestFaults> = {
  error500Rate: 0.03,
  timeoutRate: 0.01,
  hangMs: 10_000,
};

export interface ToolApiServerOptions {
  store: ToolApiStore;
  faults?: ToolApiRequestFaults;
  /** Multiplier of the fault rates (the writer context's `faultRate`). Default 1. */
  scale?: number;
  rng: Rng;
  /** Told about every injected fault (the writer records them in the ledger). */
  onFault?: (kind: 'api_error' | 'timeout', detail: string) => void;
}

export interface ToolApiServerStats {
  requests: number;
  notModified: number;
  errors500: number;
  timeouts: number;
}

export interface ToolApiServer {
  /** Listen; resolves with the base URL, e.g. `http://127.0.0.1:41234`. */
  listen(port?: number, host?: string): Promise<string>;
  /** Change fault rates at run time (tests: an outage, then recovery). */
  setFaults(f: ToolApiRequestFaults): void;
  stats(): ToolApiServerStats;
  close(): Promise<void>;
}

class BadRequest extends Error {}

function intParam(url: URL, name: string, dflt: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return dflt;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < min || v > max)
    throw new BadRequest(`${name} must be an integer in [${min}, ${max}]`);
  return v;
}

/**
 * The tool inventory REST API (node:http): `GET /api/tools?page&pageSize` and
 * `GET /api/tool-movements?after&limit`. Every 200 carries a strong `ETag` (hash of the body) and
 * `Last-Modified`; a matching `If-None-Match` gets 304. Faults are drawn per request.
 */
export function createToolApiServer(opts: ToolApiServerOptions): ToolApiServer {
  const { store, rng } = opts;
  let faults = { ...DEFAULT_TOOL_API_REQUEST_FAULTS, ...opts.faults };
  const scale = opts.scale ?? 1;
  const stats: ToolApiServerStats = { requests: 0, notModified: 0, errors500: 0, timeouts: 0 };
  const hanging = new Set<NodeJS.Timeout>();

  function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, lastModified?: number): void {
    const text = JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 200) {
      const etag = `"${createHash('sha1').update(text).digest('base64url').slice(0, 22)}"`;
      headers.etag = etag;
      if (lastModified !== undefined) headers['last-modified'] = new Date(lastModified).toUTCString();
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
        stats.notModified++;
        res.writeHead(304, headers).end();
        return;
      }
    }
    res.writeHead(status, headers).end(text);
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (url.pathname === '/api/tools') {
      const pageSize = intParam(url, 'pageSize', 50, 1, 500);
      const page = intParam(url, 'page', 1, 1, 1_000_000);
      const all = store.tools();
      const items = all.slice((page - 1) * pageSize, page * pageSize);
      const body = { items, page, pageSize, total: all.length, totalPages: Math.ceil(all.length / pageSize) };
      return send(req, res, 200, body, store.latestAt);
    }
    if (url.pathname === '/api/tool-movements') {
      const after = intParam(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = intParam(url, 'limit', 100, 1, 1_000);
      const page = store.movements(after, limit);
      if (page === 'gone') return send(req, res, 410, { error: `movements after ${after} are no longer kept` });
      return send(req, res, 200, page, store.latestAt);
    }
    send(req, res, 404, { error: `no route ${url.pathname}` });
  }

  const server = createServer((req, res) => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return send(req, res, 405, { error: 'only GET' });
    if (rng.chance(Math.min(1, faults.timeoutRate * scale))) {
      // Hang past the client's timeout, then drop the connection without an answer.
      stats.timeouts++;
      opts.onFault?.('timeout', `${url.pathname}${url.search} hung ${faults.hangMs} ms, then closed`);
      const timer = setTimeout(() => {
        hanging.delete(timer);
        res.socket?.destroy();
      }, faults.hangMs);
      hanging.add(timer);
      return;
    }
    if (rng.chance(Math.min(1, faults.error500Rate * scale))) {
      stats.errors500++;
      opts.onFault?.('api_error', `HTTP 500 on ${url.pathname}${url.search}`);
      return send(req, res, 500, { error: 'internal error (simulated)' });
    }
    try {
      route(req, res, url);
    } catch (err) {
      if (err instanceof BadRequest) send(req, res, 400, { error: err.message });
      else send(req, res, 500, { error: (err as Error).message });
    }
  });

  return {
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
        });
      });
    },
    setFaults(f) {
      faults = { ...faults, ...f };
    },
    stats: () => ({ ...stats }),
    async close() {
      for (const t of hanging) clearTimeout(t);
      hanging.clear();
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
