import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Reads a small JSON request body in node:http and hands the runtime the parsed object as
 * `req.body`, the way a framework's body parser (Express, Fastify) does: @whatwg-node/server then
 * builds a Request without a body stream whose `json()` returns that object. The runtime's own
 * path wraps every body stream in a byte-counting TransformStream (graphql-yoga's
 * useLimitRequestBodySize, which Hive Gateway gives no option to skip) and tears the pipe down with
 * an AbortController per request: about a tenth of a response-cache hit's CPU.
 *
 * Only a request that every later check treats the same either way takes this path: a POST whose
 * Content-Type is one yoga parses as JSON (`application/json`, `application/graphql+json`, as
 * its isPOSTJsonRequest matches it), with no Content-Encoding, and a Content-Length of 1 to
 * `maxBytes` digits-only bytes (Node reads exactly that many; useRequestSize refuses longer ones,
 * and they are left to it). The bytes are decoded and parsed as the runtime's `json()` would
 * (UTF-8, JSON.parse); anything but a non-empty JSON object (invalid JSON, an array, a scalar, a
 * BOM) is handed on as the bytes themselves, so the runtime parses, and refuses, it exactly as
 * before. A client that goes away mid-body gets its socket closed.
 */
export function readJsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, next: () => void): void {
  if (!takesJsonBody(req, maxBytes)) return next();
  const chunks: Buffer[] = [];
  let done = false;
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => {
    if (done) return;
    done = true;
    (req as IncomingMessage & { body?: unknown }).body = parsed(Buffer.concat(chunks));
    next();
  });
  const fail = () => {
    if (done) return;
    done = true;
    res.destroy();
  };
  req.once('error', fail);
  req.once('close', () => {
    if (!req.complete) fail();
  });
}

const JSON_TYPES = ['application/json', 'application/graphql+json'];

function takesJsonBody(req: IncomingMessage, maxBytes: number): boolean {
  if (req.method !== 'POST') return false;
  const length = req.headers['content-length'];
  if (!length || !/^\d+$/.test(length) || Number(length) === 0 || Number(length) > maxBytes) return false;
  if (req.headers['content-encoding'] !== undefined) return false;
  const type = req.headers['content-type']?.split(',')[0];
  return !!type && JSON_TYPES.some((t) => type === t || type.startsWith(`${t};`));
}

function parsed(bytes: Buffer): unknown {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf-8'));
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) return value;
  } catch {
    // Handed on as bytes: the runtime reports it as it always has.
  }
  return bytes;
}
