import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cliNodeArgs } from '../source-time.mjs';
import { createRng } from '../../simulator/prng.ts';
import { createChaosDeployment, type ChaosServices } from './chaos-deployment.ts';
import { FAULT_KINDS, injectFault, type FaultKind, type FaultOptions } from './chaos-faults.ts';
import { createProbes, type Positions } from './chaos-probes.ts';
import { startStatusShim } from './status-shim.ts';
import { formatChaosReport } from './format-chaos-report.ts';
import type { Role } from './role-process.ts';
import type { ChaosOptions, ChaosResult, FaultResult } from './chaos-types.ts';

export type { ChaosOptions, ChaosResult, FaultResult };
import { SUBGRAPH_NAMES } from '../../subgraphs/registry.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `fn` within `ms` or null (a probe stuck on a paused broker must not stall the driver). */
async function within<T>(fn: () => Promise<T>, ms: number): Promise<T | null> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([fn(), new Promise<null>((r) => (t = setTimeout(() => r(null), ms)))]);
  } catch {
    return null;
  } finally {
    clearTimeout(t);
  }
}

/**
 * The chaos run: a split deployment (every role its own process) on the real services, the
 * simulator at `rate`, faults at seeded random moments, each waited out until the pipeline moves
 * and the gateway answers; then the simulator stops, the pipeline catches up, and `millrace verify`
 * compares everything with the ledger.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${new Date().toISOString()} chaos: ${l}\n`));
  const rate = o.rate ?? 5000;
  const speed = o.speed ?? 10;
  const kinds = [...(o.kinds ?? FAULT_KINDS)];
  const rng = createRng(o.seed);
  await mkdir(o.outDir, { recursive: true });
  const unplannedExits: ChaosResult['unplannedExits'] = [];
  let phaseStart = Date.now();
  const deployment = await createChaosDeployment({
    root: o.root,
    services: o.services,
    outDir: o.outDir,
    rate,
    speed,
    simSeed: o.seed,
    slice: o.slice,
    extraEnv: o.extraEnv,
    onUnplannedExit: (role, code, signal, tail) => {
      unplannedExits.push({ role, code, signal, at: Date.now() - phaseStart });
      log(`UNPLANNED EXIT of ${role} (code ${code}, signal ${signal}); restarting it. Last output:\n${tail}`);
      // The driver is the supervisor (as systemd or Kubernetes would be): a crashed role is restarted.
      void sleep(1000)
        .then(() => deployment.roles.get(role)!.start())
        .catch((err) => log(`restart of ${role} failed: ${(err as Error).message}`));
    },
  });
  log(
    `seed ${o.seed}, deployment ${deployment.id} (schema ${deployment.schema}, prefix ${deployment.prefix}, Redis db ${deployment.redisDb}), ${rate} events/s at ${speed}× speed, logs in ${o.outDir}`,
  );
  const probes = createProbes({
    env: deployment.env,
    gatewayUrl: deployment.gatewayUrl,
    headers: { ...deployment.headers, ...o.headers },
    appName: `chaos-driver-${deployment.id}`,
  });
  const faults: FaultResult[] = [];
  // Ctrl-C: stop every role and drop what the run made (a second Ctrl-C exits at once).
  const interrupted = () => {
    log('interrupted: stopping the deployment and cleaning up');
    process.once('SIGINT', () => process.exit(130));
    void deployment
      .stop()
      .then(() => probes.close())
      .then(() => (o.keep ? undefined : deployment.cleanup()))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await deployment.start();
    log('every role is up; waiting for events to flow and the gateway to answer');
    const deadline = Date.now() + 180_000;
    for (;;) {
      const p = await within(() => probes.positions(), 10_000);
      const a = await Promise.all(SUBGRAPH_NAMES.map((n) => probes.answers(n)));
      if (p && p.speed > 0 && p.batch > 0 && a.every((x) => x.ok)) break;
      if (Date.now() > deadline)
        throw new Error(`the pipeline did not start flowing: ${JSON.stringify(p)} ${JSON.stringify(a)}`);
      await sleep(500);
    }
    phaseStart = Date.now();
    const src0 = (await probes.positions()).sourceEnd;
    // Every kind once, in a seeded order; then seeded random kinds until the phase's time is up.
    const order = [...kinds].sort(() => rng.next() - 0.5);
    const fOpts: FaultOptions = { ...o.fault, root: o.root };
    for (let i = 0; order.length > 0 || Date.now() - phaseStart < (o.durationMs ?? 300_000); i++) {
      const kind = order.shift() ?? rng.pick(kinds);
      await sleep(rng.int(o.minGapMs ?? 5000, o.maxGapMs ?? 20_000));
      const before = (await within(() => probes.positions(), 30_000)) as Positions;
      const t0 = Date.now();
      const at = t0 - phaseStart;
      log(`fault ${i + 1}: ${kind}`);
      try {
        const inj = await injectFault(kind, { deployment, probes, rng, options: fOpts, log });
        let recoveredAt: number | null = null;
        while (Date.now() - t0 < (o.recoveryTimeoutMs ?? 180_000)) {
          if (await within(() => inj.recovered(before), 15_000)) {
            recoveredAt = Date.now();
            break;
          }
          await sleep(200);
        }
        const r: FaultResult = {
          kind,
          at,
          evidence: inj.evidence,
          clearMs: inj.clearedAt - t0,
          recoveryMs: recoveredAt === null ? null : recoveredAt - t0,
        };
        faults.push(r);
        log(`  ${inj.evidence}; recovered ${r.recoveryMs === null ? 'NEVER' : `after ${r.recoveryMs} ms`}`);
      } catch (err) {
        faults.push({ kind, at, evidence: '', clearMs: 0, recoveryMs: null, error: (err as Error).message });
        log(`  injection failed: ${(err as Error).message}`);
      }
    }
    const faultPhaseMs = Date.now() - phaseStart;
    const measuredRate = Math.round((((await probes.positions()).sourceEnd - src0) / faultPhaseMs) * 1000);
    log(
      `fault phase over after ${Math.round(faultPhaseMs / 1000)} s (source topics grew ${measuredRate} events/s); stopping the simulator`,
    );

    // The factory stops (it flushes what it held back and seals); then nothing new arrives.
    await deployment.roles.get('simulator')!.stop();
    const tCatch = Date.now();
    let last = '';
    let stableSince = Date.now();
    for (;;) {
      const p = await within(() => probes.positions(), 10_000);
      const sig = JSON.stringify(p);
      if (sig !== last) {
        last = sig;
        stableSince = Date.now();
      }
      const caughtUp =
        p && p.loader >= p.logEnd && p.sourceRead >= p.sourceEnd && Math.max(p.speed, p.batch) >= p.loader;
      if (caughtUp && Date.now() - stableSince >= (o.quiesceMs ?? 20_000)) break;
      if (Date.now() - tCatch > 900_000) throw new Error(`no catch-up within 15 min: ${sig}`);
      await sleep(1000);
    }
    const catchUpMs = Date.now() - tCatch - (o.quiesceMs ?? 20_000);
    const eventsLoaded = Number(
      (await probes.pool.query(`SELECT count(*)::bigint AS n FROM ${deployment.schema}.raw_events`)).rows[0].n,
    );
    log(
      `caught up ${Math.round(catchUpMs / 1000)} s after the simulator stopped (${eventsLoaded} events loaded); running millrace verify`,
    );
    const verify = await runVerifyCli(o, deployment.env, probes, deployment.gatewayUrl);
    log(`verify: ${verify.checked} checked, ${verify.mismatches} mismatches (exit ${verify.code})`);
    const result: ChaosResult = {
      seed: o.seed,
      deploymentId: deployment.id,
      rate,
      speed,
      measuredRate,
      faultPhaseMs,
      faults,
      unplannedExits,
      eventsLoaded,
      verify,
      catchUpMs,
      reportFile: path.join(o.outDir, 'chaos-summary.md'),
    };
    await writeFile(result.reportFile, formatChaosReport(result, o));
    return result;
  } finally {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    await deployment.stop().catch((err) => log(`stopping: ${(err as Error).message}`));
    await probes.close();
    if (!o.keep) await deployment.cleanup().catch((err) => log(`cleanup: ${(err as Error).message}`));
  }
}

/** The real `millrace verify --json`, its status barrier answered by the shim (see status-shim.ts). */
async function runVerifyCli(
  o: ChaosOptions,
  env: Record<string, string>,
  probes: ReturnType<typeof createProbes>,
  gatewayUrl: string,
): Promise<ChaosResult['verify']> {
  const shim = await startStatusShim({ gatewayUrl, probes });
  try {
    const args = [
      ...cliNodeArgs(o.root),
      'verify',
      '--json',
      '--ranges',
      String(o.verifyRanges ?? 10),
      '--seed',
      String(o.seed),
      '--timeout',
      '300',
    ];
    const proc = spawn(process.execPath, args, {
      cwd: o.root,
      env: { ...process.env, ...env, MILLRACE_URL: shim.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    try {
      const out = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      return {
        code,
        checked: out.checked,
        mismatches: out.mismatches,
        bySource: out.bySource,
        stderr: stderr.slice(-2000),
      };
    } catch {
      return {
        code,
        checked: 0,
        mismatches: -1,
        bySource: {},
        stderr: `${stdout.slice(-1000)}\n${stderr.slice(-2000)}`,
      };
    }
  } finally {
    await shim.close();
  }
}
