import { GraphQLError } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/** Options of `useRequestSize`. */
export interface RequestSizeOptions {
  /** Largest request body, bytes. Default 64 KiB (a dashboard query is a few KiB). */
  maxBodyBytes?: number;
  /** Largest `variables` object, bytes of JSON. Default 16 KiB. */
  maxVariablesBytes?: number;
}

/** `maxBodyBytes` when none is given. */
export const DEFAULT_MAX_BODY_BYTES = 64 << 10;

export const SIZE_CODES = { body: 'BODY_TOO_LARGE', variables: 'VARIABLES_TOO_LARGE' } as const;

/**
 * Request size limits: the body is read through a counter that stops at `maxBodyBytes` (a
 * Content-Length over the limit is refused before reading anything), and the parsed variables
 * are measured as JSON. Both answer HTTP 413 with a GraphQL error and its own code. graphql-ws
 * messages are capped by the socket's `maxPayload` and pass the variables check here too.
 */
export function useRequestSize(opts: RequestSizeOptions = {}): GatewayPlugin {
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxVars = opts.maxVariablesBytes ?? 16 << 10;
  const tooLarge = (code: string, message: string) =>
    new GraphQLError(message, { extensions: { code, http: { status: 413 } } });
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (request.method !== 'POST' || !requestParser) return;
      const declared = Number(request.headers.get('content-length') ?? NaN);
      const bodyError = () => tooLarge(SIZE_CODES.body, `the request body is over ${maxBody} bytes`);
      if (declared > maxBody) throw bodyError();
      // A declared length within the limit bounds the body already: Node's HTTP parser reads
      // exactly Content-Length bytes. Only a body without one (chunked) is read through the counter.
      if (declared <= maxBody) return;
      setRequestParser(async (req) => {
        const text = await readLimited(req, maxBody, bodyError);
        return requestParser(new Request(req.url, { method: req.method, headers: req.headers, body: text }));
      });
    },
    onParams({ params }) {
      if (!params.variables) return;
      const size = Buffer.byteLength(JSON.stringify(params.variables));
      if (size > maxVars)
        throw tooLarge(SIZE_CODES.variables, `the variables are ${size} bytes; the limit is ${maxVars}`);
    },
  } as GatewayPlugin;
}

async function readLimited(req: Request, max: number, error: () => GraphQLError): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw error();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
