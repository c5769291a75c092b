import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import path from 'node:path';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { createChaosDeployment, freePort } from '../scripts/chaos/chaos-deployment.ts';
import { createRoleProcess, type RoleProcess } from '../scripts/chaos/role-process.ts';
import { createProbes, PROBE_QUERIES } from '../scripts/chaos/chaos-probes.ts';
import { startStatusShim } from '../scripts/chaos/status-shim.ts';
import { SUBGRAPH_NAMES } from '../subgraphs/registry.ts';
import { ROOT, waitFor } from './harness.ts';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { assertContiguous, checkVerify, collectDeltas, DELTAS_SUBSCRIPTION, type D } from './checks.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.ts';
import pg from 'pg';
import { partitionLeaseHolders } from '../speed/partition-leases.ts';

const services = {
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  mariadbUrl: process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The roles run twice; the others (ingest, batch refresher, simulator) once. */
const PAIRED = ['loader', 'speed', ...SUBGRAPH_NAMES.map((n) => `subgraph:${n}`), 'gateway'];

/**
 * One question through the balancer on a connection of its own (no keep-alive), as many short-lived
 * clients do: successive questions land on both gateways in turn, so the killed one had its share.
 */
function ask(url: string, headers: Record<string, string>, subgraph: string): Promise<{ ok: boolean; why: string }> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/graphql`,
      { method: 'POST', agent: false, timeout: 10_000, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('error', (e) => resolve({ ok: false, why: `response cut: ${e.message}` }));
        res.on('end', () => {
          try {
            const j = JSON.parse(body) as { data?: Record<string, unknown> | null; errors?: unknown[] };
            const ok = res.statusCode === 200 && !j.errors?.length && !!j.data && Object.values(j.data).every(Boolean);
            resolve({ ok, why: `HTTP ${res.statusCode} ${body.slice(0, 160)}` });
          } catch {
            resolve({ ok: false, why: `HTTP ${res.statusCode} ${body.slice(0, 160)}` });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, why: `connection: ${e.message}` }));
    req.end(JSON.stringify({ query: PROBE_QUERIES[subgraph] }));
  });
}

/** Which member of a consumer group owns which log partitions (Kafka's own view). */
async function groupOwners(brokers: string, group: string, topic: string) {
  const admin = new Kafka({ clientId: `scale-probe`, brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [g] = (await admin.describeGroups([group])).groups;
    const members = g.members.map((m) => ({
      host: m.clientHost,
      partitions: (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? []).sort(
        (a, b) => a - b,
      ),
    }));
    return { state: g.state, members };
  } finally {
    await admin.disconnect();
  }
}

// Issue 10, "scale-out, shown": every role in a process of its own, two loaders, two speed appliers,
// two of each subgraph and two gateways, each pair behind one address (a round-robin TCP balancer,
// e2e/round-robin-proxy.ts); one of every pair is killed with SIGKILL while a client keeps asking,
// and afterwards nothing is lost or doubled (verify at zero, every layer at the log's end).
describe('scale-out: pairs of every stateless role and of the log consumers, one of each killed', () => {
  it('keeps answering through one address and verifies at zero', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'millrace-scale-'));
    const unplanned: string[] = [];
    const gatewayPorts = [await freePort(), await freePort()];
    const subgraphPorts = new Map<string, number[]>();
    for (const n of SUBGRAPH_NAMES) subgraphPorts.set(n, [await freePort(), await freePort()]);
    // The gateways reach each subgraph pair through one address too (SUBGRAPH_URLS takes one URL per subgraph).
    const proxies: RoundRobinProxy[] = [];
    const subgraphFront = new Map<string, RoundRobinProxy>();
    for (const [n, ports] of subgraphPorts) {
      const p = await startRoundRobinProxy(ports);
      proxies.push(p);
      subgraphFront.set(n, p);
    }
    const subgraphUrls = [...subgraphFront].map(([n, p]) => `${n}=${p.url}/graphql`).join(',');
    const deployment = await createChaosDeployment({
      root: ROOT,
      services,
      outDir,
      rate: 300,
      speed: 10,
      simSeed: 7,
      slice: 200,
      // A killed loader's partitions wait out its session before they move: 10 s instead of the
      // default 30 s keeps the run short (6 s is the broker's floor; a busy machine needs slack).
      extraEnv: { MILLRACE_KAFKA_SESSION_MS: '10000' },
      roleOverrides: (role): Record<string, string> =>
        role === 'gateway'
          ? { PORT: String(gatewayPorts[0]), SUBGRAPH_URLS: subgraphUrls }
          : role.startsWith('subgraph:')
            ? { SUBGRAPH_PORT: String(subgraphPorts.get(role.slice('subgraph:'.length))![0]) }
            : {},
      onUnplannedExit: (role, code, signal, tail) => unplanned.push(`${role} (${code ?? signal}): ${tail}`),
    });
    // The one address clients use is the deployment's own gateway URL (its PORT).
    const front = await startRoundRobinProxy(gatewayPorts, Number(deployment.env.PORT));
    proxies.push(front);
    const replicas = PAIRED.map((role) => {
      const sub = role.startsWith('subgraph:') ? subgraphPorts.get(role.slice('subgraph:'.length))! : null;
      const env = {
        ...deployment.roleEnv(role),
        PGAPPNAME: `${deployment.appNamePrefix}${role}-2`,
        ...(role === 'gateway' && { PORT: String(gatewayPorts[1]) }),
        ...(sub && { SUBGRAPH_PORT: String(sub[1]) }),
      };
      return createRoleProcess({
        role,
        root: ROOT,
        env,
        logFile: path.join(outDir, `${role.replace(':', '-')}-2.log`),
        onUnplannedExit: (r, code, signal, tail) => unplanned.push(`${r}#2 (${code ?? signal}): ${tail}`),
      });
    });
    const probes = createProbes({
      env: deployment.env,
      gatewayUrl: front.url,
      headers: deployment.headers,
      appName: `scale-driver-${deployment.id}`,
    });
    // Who holds which partition in the speed layer (Postgres session locks, speed/partition-leases.ts).
    const leasePool = new pg.Pool({ connectionString: services.databaseUrl, max: 1 });
    const appliers = () => partitionLeaseHolders(leasePool, deployment.env.MILLRACE_SCHEMA);
    const group = `${deployment.prefix}-loader`;
    const topic = `${deployment.prefix}.log`;
    const t0 = Date.now();
    let passed = false;
    const mark = (what: string) => console.log(`scale-out +${Math.round((Date.now() - t0) / 1000)} s: ${what}`);
    try {
      await deployment.start();
      await Promise.all(replicas.map((r) => r.start()));
      mark(`every role up, ${PAIRED.length} of them twice (logs in ${outDir})`);
      await waitFor(
        'events through every layer and every subgraph answering through the one address',
        async () => {
          const p = await probes.positions();
          const a = await Promise.all(SUBGRAPH_NAMES.map((n) => probes.answers(n)));
          return p.speed > 0 && p.batch > 0 && a.every((x) => x.ok);
        },
        180_000,
        500,
      );
      // The two loaders split the four partitions (kafkajs' round-robin assigner: two each).
      const split = await waitFor('two loaders sharing the log', async () => {
        const g = await groupOwners(services.kafkaBrokers, group, topic);
        return g.state === 'Stable' && g.members.length === 2 && g.members.every((m) => m.partitions.length === 2)
          ? g
          : null;
      });
      mark(`loader group: ${JSON.stringify(split.members.map((m) => m.partitions))}`);
      // The two speed appliers split them too.
      const speedSplit = await waitFor('two speed appliers sharing the partitions', async () => {
        const h = await appliers();
        const per = new Map<string, number[]>();
        for (const x of h.partitions) per.set(x.applicationName, [...(per.get(x.applicationName) ?? []), x.partition]);
        return h.members === 2 && per.size === 2 && [...per.values()].every((ps) => ps.length === 2) ? per : null;
      });
      mark(`speed appliers: ${JSON.stringify(Object.fromEntries(speedSplit))}`);

      // A client asks every subgraph's question through the one address, all the time. What it
      // sees while one of a pair dies: a dropped connection (its request was in flight on the
      // gateway that died: "socket hang up") or, for a request in flight from a gateway to a
      // killed subgraph, a GraphQL error for that subgraph's fields. It retries (up to 5 times, 200 ms apart), and
      // a retry lands on the survivor, because the balancer skips a backend that refuses.
      const seen = { asked: 0, firstTryFailed: 0, gaveUp: 0, failures: [] as string[] };
      let asking = true;
      const client = (async () => {
        while (asking) {
          for (const n of SUBGRAPH_NAMES) {
            seen.asked++;
            let ok = false;
            for (let attempt = 0; attempt < 5 && !ok; attempt++) {
              const r = await ask(front.url, deployment.headers, n);
              ok = r.ok;
              if (!ok) {
                if (attempt === 0) seen.firstTryFailed++;
                if (seen.failures.length < 10) seen.failures.push(`${n}: ${r.why}`);
                await sleep(200);
              }
            }
            if (!ok) seen.gaveUp++;
          }
          await sleep(100);
        }
      })();

      // A subscriber whose WebSocket is on the gateway that will die (connected to it directly, so
      // that it surely is that one): what it sees, and that it resumes through the one address
      // from its last cursor with nothing missed and nothing twice.
      const apiKey = deployment.env.MILLRACE_API_KEY;
      const doomed = { deltas: [] as D[], ended: '' };
      const ws = createClient({
        url: `ws://127.0.0.1:${gatewayPorts[0]}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { apiKey },
      });
      const subscriptionEnded = new Promise<void>((resolve) =>
        ws.subscribe<{ productionDeltas: D }>(
          { query: DELTAS_SUBSCRIPTION, variables: { after: null } },
          {
            next: (m) => void (m.data ? doomed.deltas.push(m.data.productionDeltas) : undefined),
            error: (e) => {
              const c = e as { code?: number; reason?: string; message?: string };
              doomed.ended ||= c.code ? `socket closed, code ${c.code}` : `error ${c.message ?? JSON.stringify(e)}`;
              resolve();
            },
            complete: () => {
              doomed.ended ||= 'completed';
              resolve();
            },
          },
        ),
      );
      await waitFor('deltas on the subscriber of the doomed gateway', async () => doomed.deltas.length >= 3);
      const atKill = await probes.vectors();
      const killed = ['loader', 'speed', 'gateway', 'subgraph:production'];
      // SIGKILL, the harsher: no leave-group, no goodbye; the group notices only when the
      // member's session times out (MILLRACE_KAFKA_SESSION_MS above).
      await Promise.all(killed.map((role) => deployment.roles.get(role)!.kill9()));
      mark(`SIGKILL to the first ${killed.join(', ')}`);

      const taken = await waitFor(
        'the surviving loader to own all four partitions',
        async () => {
          const g = await groupOwners(services.kafkaBrokers, group, topic);
          return g.state === 'Stable' && g.members.length === 1 && g.members[0].partitions.length === 4 ? g : null;
        },
        120_000,
        1000,
      );
      mark(`loader group after the kill: ${JSON.stringify(taken.members.map((m) => m.partitions))}`);
      // The surviving speed applier takes the killed one's partitions: its session ended with it.
      const speedTaken = await waitFor(
        'the surviving speed applier to hold all four partitions',
        async () => {
          const h = await appliers();
          return h.members === 1 &&
            h.partitions.length === 4 &&
            h.partitions.every((x) => x.applicationName.startsWith(`${deployment.appNamePrefix}speed-2`))
            ? h
            : null;
        },
        60_000,
        500,
      );
      mark(`speed appliers after the kill: ${speedTaken.partitions.map((x) => x.partition).join(',')} on one`);
      // Every partition moves on in both layers the killed pair members served.
      await waitFor(
        'loader and speed offsets of every partition past where they were at the kill',
        async () => {
          const v = await probes.vectors();
          return v.loader.every((o, p) => o > atKill.loader[p] && (v.speed[p] ?? 0) > (atKill.speed[p] ?? 0));
        },
        120_000,
        1000,
      );
      mark('every partition loaded and applied past the kill');
      await subscriptionEnded;
      await ws.dispose();
      mark(`subscriber on the killed gateway: ${doomed.ended} after ${doomed.deltas.length} deltas`);
      // It resumes through the one address (the balancer passes the WebSocket upgrade untouched).
      const before = doomed.deltas;
      const seenPartitions = new Set(before.map((d) => d.partition));
      const resumed = await collectDeltas(
        front.url,
        before[before.length - 1].cursor,
        (g) => [...seenPartitions].every((p) => g.some((d) => d.partition === p)),
        60_000,
        apiKey,
      );
      assertContiguous([...before, ...resumed]);
      mark(`resumed through the one address: ${resumed.length} deltas, contiguous with the ${before.length} before`);
      asking = false;
      await client;
      mark(`client: ${JSON.stringify({ ...seen, failures: seen.failures.slice(0, 3) })}`);
      assert.equal(seen.gaveUp, 0, `queries that never got an answer: ${seen.failures.join('\n')}`);
      assert.ok(seen.asked > SUBGRAPH_NAMES.length * 10, `the client kept asking (${seen.asked})`);
      // Both gateway instances and both of every subgraph served connections before the kill.
      for (const p of proxies) assert.equal(p.served.size, 2, `both backends served: ${JSON.stringify([...p.served])}`);

      // The factory stops and seals; every layer reaches the log's end, then verify compares.
      await deployment.roles.get('simulator')!.stop();
      await waitFor(
        'loaders at the log end and the speed layer at the loaders',
        async () => {
          const v = await probes.vectors();
          const sourcesRead = v.connectors.every((c) => c.positions.every((x, i) => x >= c.sourceEnd[i]));
          return sourcesRead && v.loader.every((o, p) => o === v.logEnd[p] && v.speed[p] === o);
        },
        180_000,
        1000,
      );
      const shim = await startStatusShim({ gatewayUrl: front.url, probes });
      try {
        const v = await checkVerify({ ...deployment.env, MILLRACE_URL: shim.url });
        mark(`verify: ${v.checked} checked, ${v.mismatches} mismatches`);
        assert.ok(v.bySource.machining?.checked > 0, 'machining facts compared');
      } finally {
        await shim.close();
      }
      assert.deepEqual(unplanned, [], 'no role exited unless killed');
      passed = true;
    } finally {
      await leasePool.end();
      for (const r of replicas as RoleProcess[]) await r.stop().catch(() => undefined);
      await deployment.stop().catch(() => undefined);
      await probes.close();
      for (const p of proxies) await p.close();
      await deployment.cleanup();
      // The roles' logs stay for a failed run's post-mortem.
      if (passed) await rm(outDir, { recursive: true, force: true });
      mark('stopped and cleaned up');
    }
  });
});
