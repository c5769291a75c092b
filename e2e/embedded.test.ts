import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { freePort, gql, runCli, startMillrace, tempDir, waitFor, type Running } from './harness.ts';
import {
  ALL_LEDGER_SOURCES,
  checkBadRequest,
  checkGenericApi,
  checkPrometheus,
  checkSubscriptionResume,
  checkVerify,
} from './checks.ts';

// `npm start` with nothing configured: embedded Postgres, Postgres-table topics, memory speed store.
describe("embedded mode (the README's first command)", () => {
  let app: Running;
  let env: Record<string, string>;

  before(async () => {
    env = {
      MILLRACE_DATA_DIR: await tempDir('millrace-e2e'),
      EMBEDDED_PG_PORT: String(await freePort()),
      TOOL_API_PORT: String(await freePort()),
      PORT: String(await freePort()),
      // Nothing configured, even when the test runner's shell has the services' env vars.
      DATABASE_URL: '',
      REDIS_URL: '',
      KAFKA_BROKERS: '',
      MARIADB_URL: '',
      MSSQL_URL: '',
      ORACLE_URL: '',
      // Simulated time runs 30× so minutes seal (late events are bounded) within seconds.
      MILLRACE_SIM_SPEED: '30',
      MILLRACE_SIM_RATE: '150',
      MILLRACE_SLICE: '200',
    };
    app = await startMillrace(env);
  });
  after(async () => {
    await app?.stop();
  });

  it("ingests the simulator's events and dead-letters its malformed messages", async () => {
    const s = await waitFor('events and dead letters in status', async () => {
      const r = await runCli(['status', '--json'], env);
      const st = JSON.parse(r.stdout);
      const k = st.connectors?.[0];
      return k && k.events > 200 && k.deadLetters > 0 ? st : null;
    });
    assert.equal(s.mode.postgres, 'embedded');
    // Embedded, every source lives in the one Postgres or on disk: they all flow, and every source
    // that injects malformed input (the CDC'd orders table, the SQL engine's tables and the
    // reference files do not) has it dead-lettered — the slow ones too, from the history a live
    // run starts with (the clock-in sheet of the shift under way, the last day of orders, …).
    const all = [
      'machining',
      'heat',
      'energy',
      'clockin',
      'orders',
      'machining-archive',
      'work-orders',
      'tools',
      'tool-master',
      'floor-map',
    ];
    const malformed = ['machining', 'heat', 'energy', 'clockin', 'tools'];
    let last: Array<{ name: string; events: number; deadLetters: number }> = [];
    await waitFor(
      `events from every source and dead letters from ${malformed.join(', ')}`,
      async () => {
        const st = JSON.parse((await runCli(['status', '--json'], env)).stdout);
        last = st.connectors;
        const k = (name: string) => last.find((x) => x.name === name);
        return all.every((n) => (k(n)?.events ?? 0) > 0) && malformed.every((n) => (k(n)?.deadLetters ?? 0) > 0);
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; last status: ${JSON.stringify(last.map(({ name, events, deadLetters }) => ({ name, events, deadLetters })))}`,
      );
    });
    assert.deepEqual(last.map((k) => k.name).sort(), [...all].sort(), 'exactly these connectors');
    assert.equal(s.mode.speed, 'memory');
  });

  it('is secured by default: a development token is printed, GraphiQL and the CLI use it, no credential is refused', async () => {
    const token = /development token[^:]*: (\S+)/.exec(app.output())?.[1];
    assert.ok(token, 'npm start prints a development token');
    const anonymous = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ stations { id } }' }),
    });
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).errors[0].extensions.code, 'UNAUTHENTICATED');
    assert.equal((await fetch(`${app.url}/status`)).status, 401);
    const withToken = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ stations { id } }' }),
    });
    assert.ok((await withToken.json()).data.stations.length > 0);
    const graphiql = await (await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    assert.ok(graphiql.includes(token), 'GraphiQL is rendered with the token in its default headers');
    // The CLI with no credential configured reads the token from MILLRACE_DATA_DIR/runtime.json.
    const status = await runCli(['status', '--json'], { ...env, MILLRACE_API_KEY: '' });
    assert.equal(status.code, 0, status.stderr);
    assert.ok(JSON.parse(status.stdout).connectors);
  });

  it('answers a production query with freshness from both layers', async () => {
    const r = await waitFor('batch and speed to both hold part of the answer', async () => {
      const res = await gql(
        app.url,
        `{ productionSeries(metric: PARTS_ENTERED, grain: DAY, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") {
        total points { station { id zone { id } } value } freshness { batchShare speedShare batchOffsets speedOffsets } } }`,
      );
      const f = res.data?.productionSeries?.freshness;
      return f && f.batchShare > 0 && f.speedShare > 0 ? res : null;
    });
    assert.ok(r.data.productionSeries.total > 0);
    assert.ok(r.data.productionSeries.points.every((p: { station: { zone: string } }) => p.station.zone));
  });

  it('streams deltas over graphql-ws and resumes from a cursor without gaps', () => checkSubscriptionResume(app.url));

  it('verify finds zero mismatches', async () => {
    const v = await checkVerify(env, 240_000, ALL_LEDGER_SOURCES);
    assert.ok(v.checked > 0);
  });

  it('answers a bad request with a coded GraphQL error', () => checkBadRequest(app.url));

  it('exposes connector and layer metrics in Prometheus format', () => checkPrometheus(app.url));

  it('serves any metric by name, the metric catalogue and the dead letters', () => checkGenericApi(app.url));

  it('lists dead letters and replays them from the CLI (still-malformed ones stay)', async () => {
    const list = await runCli(['dead-letters', 'list', '--json', '--limit', '3', '--connector', 'machining'], env);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(rows.length > 0 && rows.every((r) => r.connector === 'machining' && r.reason && r.position));
    const replay = await runCli(['dead-letters', 'replay', '--connector', 'machining'], env);
    assert.equal(replay.code, 0, replay.stderr);
    const r = JSON.parse(replay.stdout);
    assert.ok(r.examined > 0);
    assert.equal(r.replayed, 0, "the simulator's malformed messages are still malformed");
  });

  it('shuts down cleanly on SIGTERM', async () => {
    assert.equal(await app.stop(), 0, app.output().slice(-2000));
  });
});
