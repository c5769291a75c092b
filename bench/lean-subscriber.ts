import WebSocket from 'ws';

/** What a lean subscriber reports: each `next` (with its delta's `appliedAt`, ms), and a failure. */
export interface LeanSubscriberHandlers {
  next(appliedAtMs: number): void;
  error(reason: string): void;
}

export interface LeanSubscriber {
  /** Resolves once the subscription is sent (connection acknowledged). */
  ready: Promise<void>;
  close(): void;
}

const APPLIED_AT = '"appliedAt":"';

/**
 * A load generator's graphql-ws subscriber (the graphql-transport-ws protocol on a `ws` socket):
 * connection_init with the credentials, one subscribe after the ack, then each `next` handed on
 * with its delta's `appliedAt` read straight out of the text. The benchmark's 10 000 clients share
 * one process on the machine under test; a full graphql-ws client (a JSON parse and a sink per
 * message) took more CPU than the gateway it measured, so its own queue was what the latency
 * showed. Anything but a `next` with an `appliedAt`, a ping/pong or the ack is a failure.
 */
export function leanSubscriber(
  url: string,
  connectionParams: Record<string, unknown>,
  query: string,
  on: LeanSubscriberHandlers,
): LeanSubscriber {
  const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
  let failed = false;
  const fail = (why: string) => {
    if (!failed) on.error(why);
    failed = true;
  };
  const ready = new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
    ws.once('error', (err) => reject(err));
    ws.on('close', (code, reason) => {
      reject(new Error(`closed before the ack: ${code} ${reason}`));
      if (code !== 1000 && code !== 1005) fail(`closed: ${code} ${reason}`);
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const at = text.indexOf(APPLIED_AT);
      if (at >= 0 && text.startsWith('{"id":"1","type":"next"')) {
        on.next(Date.parse(text.slice(at + APPLIED_AT.length, text.indexOf('"', at + APPLIED_AT.length))));
      } else if (text.startsWith('{"type":"connection_ack"')) {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        resolve();
      } else if (text.startsWith('{"type":"ping"')) {
        ws.send('{"type":"pong"}');
      } else if (!text.startsWith('{"type":"pong"')) {
        fail(text.slice(0, 200));
      }
    });
  });
  ready.catch(() => undefined);
  return {
    ready,
    close: () => ws.close(1000),
  };
}
