// Every assert.ok here carries a message: a failing one without it made node:assert spend minutes generating one from this TS source.
import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { migrate } from '../../store/migrate.ts';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import type { Topic } from '../../log/topic.ts';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { createRng } from '../../simulator/prng.ts';
import {
  createToolApiServer,
  type ToolApiRequestFaults,
  type ToolApiServer,
} from '../../simulator/sources/tool-api-server.ts';
import { createToolApiStore, type ToolApiStore } from '../../simulator/sources/tool-api-store.ts';
import { saveState } from '../checkpoints.ts';
import type { Connector } from '../define-connector.ts';
import { describeRestError } from './rest-client.ts';
import { restPoll } from './rest-poll.ts';

// rest-poll against the simulator's real API (node:http) and a real Postgres log, faults dialled per test.
const pool = testPool();
const schema = testSchemaName('restpoll');
const START = Date.UTC(2026, 0, 1);
const TOOLS = Array.from({ length: 40 }, (_, i) => `T-${String(i + 1).padStart(3, '0')}`);
let log: Topic;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  await migrate(pool, schema, 2);
  log = createPostgresTopic({ pool, name: 'restpoll_log', partitions: 2, schema });
  await log.ensure();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await log.close();
  await dropSchema(pool, schema);
  await pool.end();
});

interface Api {
  store: ToolApiStore;
  server: ToolApiServer;
  url: string;
  add(n: number): string[];
}
let apis = 0;
/** A fresh API; each one numbers its seqs from its own base, so tests sharing the log never share ids. */
async function api(faults: ToolApiRequestFaults = {}): Promise<Api & { base: number }> {
  const base = ++apis * 10_000;
  const store = createToolApiStore({ toolIds: TOOLS, startTime: START, seqBase: base });
  const server = createToolApiServer({
    store,
    rng: createRng(7),
    faults: { error500Rate: 0, timeoutRate: 0, ...faults },
  });
  const url = await server.listen();
  cleanups.push(() => server.close());
  const out = new Set<string>();
  let n = 0;
  return {
    store,
    server,
    url,
    base,
    add(k) {
      return Array.from({ length: k }, () => {
        const toolId = TOOLS[n % TOOLS.length];
        const action = out.has(toolId) ? 'in' : 'out';
        if (action === 'out') out.add(toolId);
        else out.delete(toolId);
        return `rest:tool-movement:${store.record({ toolId, action, holder: 'E0003', at: START + ++n * 60_000 })}`;
      });
    },
  };
}

function connector(config: Record<string, unknown>, opts: { log?: Topic; errors?: unknown[] } = {}): Connector {
  const name = `rp-${randomBytes(3).toString('hex')}`;
  const c = restPoll.create(restPoll.config.parse(config), {
    name,
    pool,
    schema,
    log: opts.log ?? log,
    openTopic: () => {
      throw new Error('unused');
    },
    onError: (e) => opts.errors?.push(e),
  });
  cleanups.push(() => c.stop());
  return c;
}

/** Log values of the given ids (all copies, in log order). */
async function logged(ids: Iterable<string>): Promise<Map<string, string[]>> {
  const want = new Set(ids);
  const { rows } = await pool.query(
    `SELECT value FROM ${schema}.records WHERE topic = 'restpoll_log' ORDER BY partition, "offset"`,
  );
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const id = JSON.parse(r.value).id as string;
    if (want.has(id)) out.set(id, [...(out.get(id) ?? []), r.value]);
  }
  return out;
}

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const allLogged = (ids: string[]) => async () => (await logged(ids)).size === ids.length;

describe('rest-poll connector', () => {
  it('retries 500s and timeouts: every movement arrives exactly once, in seq order per tool', async () => {
    const a = await api({ error500Rate: 0.25, timeoutRate: 0.1, hangMs: 400 });
    const ids = a.add(120);
    const c = connector({
      baseUrl: a.url,
      pageSize: 10,
      timeoutMs: 100,
      retries: 10,
      backoffMs: 5,
      maxBackoffMs: 20,
      circuitThreshold: 1_000,
      pollMs: 20,
    });
    await c.start();
    await until('the first movements', allLogged(ids));
    ids.push(...a.add(30));
    await until('the later movements', allLogged(ids));
    await c.stop();
    const got = await logged(ids);
    assert.ok(
      [...got.values()].every((copies) => copies.length === 1),
      'no duplicates without a crash',
    );
    const st = a.server.stats();
    assert.ok(st.errors500 > 0 && st.timeouts > 0, `both faults happened: ${JSON.stringify(st)}`);
    const status = await c.status();
    assert.deepEqual(
      [status.positions, status.sourceEnd, status.lag, status.events],
      [[a.base + 150], [a.base + 150], 0, 150],
    );
    const seqsOfT001 = [...got.values()]
      .map((v) => JSON.parse(v[0]))
      .filter((e) => e.key === 'T-001')
      .map((e) => e.payload.seq);
    assert.deepEqual(
      seqsOfT001,
      [...seqsOfT001].sort((x, y) => x - y),
    );
  });

  it('opens the circuit in an outage, keeps its cursor, recovers; another connector keeps going meanwhile', async () => {
    const down = await api({ error500Rate: 1 });
    const healthy = await api();
    const ids = down.add(15);
    const errors: unknown[] = [];
    const c = connector(
      {
        baseUrl: down.url,
        retries: 1,
        backoffMs: 5,
        maxBackoffMs: 10,
        circuitThreshold: 3,
        circuitHalfOpenMs: 400,
        pollMs: 20,
      },
      { errors },
    );
    const other = connector({ baseUrl: healthy.url, pollMs: 20 });
    await c.start();
    await other.start();
    await until('the circuit to open', async () => (await c.status()).lastError === 'circuit open');
    const before = down.server.stats().requests;
    const openedAt = Date.now();
    const otherIds = healthy.add(10);
    await until('the healthy API read meanwhile', allLogged(otherIds));
    await new Promise((r) => setTimeout(r, 300));
    // An open circuit sends one trial per half-open period (400 ms), not one per poll (20 ms).
    const trials = down.server.stats().requests - before;
    assert.ok(
      trials <= Math.ceil((Date.now() - openedAt) / 400) + 1,
      `an open circuit does not hammer the API: ${trials} requests`,
    );
    const st = await c.status();
    assert.deepEqual([st.positions, st.events], [[0], 0], 'nothing published, cursor unmoved');
    const texts = errors.map(describeRestError);
    assert.ok(texts.includes('HTTP 500') && texts.includes('circuit open'), texts.join(', '));
    assert.ok(
      texts.filter((t) => t === 'circuit open').length <= 3,
      'an open circuit is reported when it opens, not every poll',
    );
    down.server.setFaults({ error500Rate: 0 });
    await until('recovery', allLogged(ids));
    await until('lastError cleared', async () => (await c.status()).lastError === null);
    assert.ok(
      [...(await logged(ids)).values()].every((copies) => copies.length === 1),
      'no duplicates after recovery',
    );
  });

  it("reports a timeout as 'timeout' and keeps the cursor", async () => {
    const a = await api({ timeoutRate: 1, hangMs: 2_000 });
    a.add(3);
    const c = connector({ baseUrl: a.url, retries: 0, timeoutMs: 50, circuitThreshold: 100, pollMs: 20 });
    await c.start();
    await until('a timeout', async () => (await c.status()).lastError === 'timeout');
    assert.deepEqual((await c.status()).positions, [0]);
  });

  it('asks again for the unchanged end with If-None-Match and gets 304s, then sees new movements', async () => {
    const a = await api();
    const ids = a.add(5);
    const c = connector({ baseUrl: a.url, pollMs: 20 });
    await c.start();
    await until('the movements', allLogged(ids));
    const base = a.server.stats().notModified;
    await until('three 304s', () => a.server.stats().notModified >= base + 3);
    assert.equal((await c.status()).events, 5);
    ids.push(...a.add(2));
    await until('the new movements', allLogged(ids));
    // The checkpoint is saved after the publish is acknowledged: wait for it, not just for the log.
    await until('their checkpoint', async () => (await c.status()).events === 7);
  });

  it('follows next across pages at once, not one page per poll', async () => {
    const a = await api();
    const ids = a.add(50);
    const c = connector({ baseUrl: a.url, pageSize: 7, pollMs: 600_000 });
    await c.start();
    await until('all 8 pages', allLogged(ids), 10_000);
    assert.ok(a.server.stats().requests >= 8, `one request per page: ${a.server.stats().requests}`);
    // The last page's checkpoint follows its publish; with a 10-minute poll interval it still comes at once.
    await until('the last checkpoint', async () => (await c.status()).positions[0] === a.base + 50, 10_000);
  });

  it('re-publishes the same ids when the checkpoint was not saved after a publish', async () => {
    const a = await api();
    const ids = a.add(9);
    let crashes = 0;
    const crashing: Topic = {
      ...log,
      name: log.name,
      partitions: log.partitions,
      async publish(records) {
        const res = await log.publish(records);
        if (crashes++ === 0) throw new Error('crash after the log acknowledged');
        return res;
      },
    };
    const c = connector({ baseUrl: a.url, pageSize: 4, pollMs: 20 }, { log: crashing });
    await c.start();
    await until('all movements', allLogged(ids));
    await until(
      'caught up',
      async () => (await c.status()).lag === 0 && (await c.status()).positions[0] === a.base + 9,
    );
    const got = await logged(ids);
    const twice = [...got].filter(([, copies]) => copies.length > 1);
    assert.deepEqual(twice.map(([id]) => id).sort(), ids.slice(0, 4).sort(), 'exactly the first page went out twice');
    assert.ok(
      twice.every(([, copies]) => copies[0] === copies[1]),
      'byte-identical envelopes',
    );
  });

  it('refuses to skip when the API history was reset below its cursor (POSITION_LOST)', async () => {
    const a = await api();
    a.add(3);
    const errors: unknown[] = [];
    const c = connector({ baseUrl: a.url, pollMs: 20 }, { errors });
    await saveState(pool, schema, {
      connector: c.name,
      source: 'test',
      state: { after: a.base + 1_000 },
      events: 0,
      deadLetters: [],
    });
    await c.start();
    await until('the error', () => errors.length > 0);
    assert.equal((errors[0] as { code?: string }).code, 'POSITION_LOST');
    assert.match((await c.status()).lastError ?? '', /history was reset/);
  });
});
