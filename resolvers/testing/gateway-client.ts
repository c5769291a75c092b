import assert from 'node:assert/strict';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AUTH, fixtureToken, within, type FixtureStack } from '../../gateway/testing/start-fixture-stack.ts';

/** A POST to the gateway with a token of every scope (or of `scopes`): status, raw text and parsed body. */
export async function gql(
  stack: FixtureStack,
  query: string,
  variables: Record<string, unknown> = {},
  scopes?: string[],
) {
  const auth = scopes ? { authorization: `Bearer ${fixtureToken(scopes)}` } : stack.headers;
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

/** The query answers exactly one error, BAD_USER_INPUT, matching `message`, without a stack. */
export async function assertBadInput(stack: FixtureStack, query: string, message: RegExp): Promise<void> {
  const { text, body } = await gql(stack, query);
  assert.equal(body.errors?.length, 1, text);
  assert.equal(body.errors[0].extensions?.code, 'BAD_USER_INPUT', text);
  assert.match(body.errors[0].message, message);
  assert.doesNotMatch(text, /stacktrace|originalError|\n\s+at |\.ts:\d+/);
}

/** A graphql-ws client on the gateway, with a token of every scope. */
export function wsClient(stack: FixtureStack): Client {
  return createClient({
    url: stack.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { ...AUTH },
  });
}

/** Iterates a subscription; `next()` gives the payload of the next message under `field`. */
export function subscribe(client: Client, query: string, field: string, variables: Record<string, unknown> = {}) {
  const it = client.iterate<Record<string, unknown>>({ query, variables });
  return {
    async next(): Promise<any> {
      const r = await within(it.next(), `a ${field} message`);
      assert.equal(r.done, false);
      return r.value.errors ? { errors: r.value.errors } : (r.value.data as Record<string, unknown>)[field];
    },
    close: async () => void (await it.return?.()),
  };
}
