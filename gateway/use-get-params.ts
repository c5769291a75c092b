import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/**
 * A GET request whose `variables` or `extensions` parameter is not JSON is a client mistake. The
 * runtime's GET parser calls JSON.parse on them unguarded, so it answered 500 INTERNAL_SERVER_ERROR
 * (found by gateway.badinput.test.ts); this answers 400 with a coded GraphQL error instead.
 */
export function useGetParams(): GatewayPlugin {
  return {
    onRequestParse({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET') return;
      for (const name of ['variables', 'extensions']) {
        const text = url.searchParams.get(name);
        if (!text) continue;
        let ok = true;
        try {
          const v: unknown = JSON.parse(text);
          ok = v === null || (typeof v === 'object' && !Array.isArray(v));
        } catch {
          ok = false;
        }
        if (!ok) {
          const body = {
            errors: [{ message: `the ${name} parameter is not a JSON object`, extensions: { code: 'BAD_REQUEST' } }],
          };
          endResponse(
            new fetchAPI.Response(JSON.stringify(body), {
              status: 400,
              headers: { 'content-type': 'application/json; charset=utf-8' },
            }),
          );
          return;
        }
      }
    },
  } as GatewayPlugin;
}
