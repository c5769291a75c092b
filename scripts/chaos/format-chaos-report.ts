import type { ChaosOptions, ChaosResult } from './chaos-types.ts';

const s = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** The run as Markdown: the figures the README quotes, every fault with its evidence, and how to reproduce it. */
export function formatChaosReport(
  r: ChaosResult,
  o: Pick<ChaosOptions, 'fault' | 'durationMs' | 'kinds' | 'minGapMs' | 'maxGapMs'>,
): string {
  const byKind = new Map<string, { n: number; ok: number; times: number[] }>();
  for (const f of r.faults) {
    const k = byKind.get(f.kind) ?? { n: 0, ok: 0, times: [] };
    k.n++;
    if (f.recoveryMs !== null && !f.error) {
      k.ok++;
      k.times.push(f.recoveryMs);
    }
    byKind.set(f.kind, k);
  }
  const survived = r.faults.filter((f) => f.recoveryMs !== null && !f.error).length;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? null;
  return [
    `# Chaos run ${r.deploymentId}`,
    '',
    `Command: \`npm run chaos -- --seed ${r.seed} --rate ${r.rate} --speed ${r.speed} --duration ${Math.round((o.durationMs ?? 0) / 1000)} --min-gap ${(o.minGapMs ?? 5000) / 1000} --max-gap ${(o.maxGapMs ?? 20_000) / 1000} --hold ${o.fault.holdMs / 1000}${o.kinds ? ` --kinds ${o.kinds.join(',')}` : ''}${o.fault.kafkaRestart ? ' --kafka-restart' : ''}${o.fault.pgRestart ? ' --pg-restart' : ''}\``,
    '',
    '| figure | value |',
    '|---|---|',
    `| faults survived | **${survived} / ${r.faults.length}** |`,
    `| verify | **${r.verify.checked} values checked, ${r.verify.mismatches} mismatches** (exit ${r.verify.code}) |`,
    `| events loaded (raw events, after dedup) | ${r.eventsLoaded} |`,
    `| simulator rate (machining + heat source topics) | ${r.measuredRate} events/s (asked: ${r.rate} machining events/s, ${r.speed}× time) |`,
    `| fault phase | ${s(r.faultPhaseMs)} |`,
    `| catch-up after the simulator stopped | ${s(r.catchUpMs)} |`,
    `| unplanned role exits (restarted by the driver) | ${r.unplannedExits.length === 0 ? 'none' : r.unplannedExits.map((u) => `${u.role} (${u.code ?? u.signal}) at ${s(u.at)}`).join(', ')} |`,
    '',
    '## By kind',
    '',
    '| fault | injected | recovered | time to recover (median / max) |',
    '|---|---|---|---|',
    ...[...byKind].map(
      ([k, v]) =>
        `| ${k} | ${v.n} | ${v.ok} | ${s(median(v.times))} / ${s(v.times.length ? Math.max(...v.times) : null)} |`,
    ),
    '',
    '## Every fault',
    '',
    'Time to recover: from the injection until the layer the fault hit had progressed again and the gateway answered a production and a quality query with data.',
    '',
    '| at | fault | evidence | lifted after | recovered after |',
    '|---|---|---|---|---|',
    ...r.faults.map(
      (f) =>
        `| ${s(f.at)} | ${f.kind} | ${(f.error ? `FAILED: ${f.error}` : f.evidence).replace(/\|/g, '\\|').replace(/\n/g, ' ')} | ${s(f.clearMs)} | ${s(f.recoveryMs)} |`,
    ),
    '',
    '## Verify by source',
    '',
    '| source | checked | mismatches |',
    '|---|---|---|',
    ...Object.entries(r.verify.bySource).map(([k, v]) => `| ${k} | ${v.checked} | ${v.mismatches} |`),
    '',
  ].join('\n');
}
