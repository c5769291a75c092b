import { withContext } from '../../lib/errors.ts';
import { floorMinute } from '../ledger-facts.ts';
import { recordFacts, type SourceFact, type SourceFault } from '../ledger-sources.ts';
import { createRng, deriveSeed } from '../prng.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';
import { createToolApiServer, type ToolApiRequestFaults, type ToolApiServer } from './tool-api-server.ts';
import { createToolApiStore, type ToolApiStore } from './tool-api-store.ts';
import { generateToolMaster } from './tool-master.ts';
import { createToolMovementModel, type ToolMove } from './tool-movement-model.ts';

/** Source name in the ledger (facts, faults, seal). */
export const TOOL_API_SOURCE = 'tool-api';
export const TOOL_API_FACTS = ['tool_checkouts', 'tool_use_ms'] as const;
/** Malformed movements the API serves now and then (each still occupies a seq). */
export const TOOL_API_MALFORMED = ['bad_at', 'bad_action', 'missing_tool'] as const;

export interface ToolApiWriterOptions extends WriterContext {
  /** Port to listen on. Default 0 (any free port; read `url`). */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Request fault rates (before `faultRate`); defaults `DEFAULT_TOOL_API_REQUEST_FAULTS`. */
  faults?: ToolApiRequestFaults & {
    /** Malformed movements injected per real movement. Default 0.02. */
    malformedRate?: number;
  };
  /** Simulated time of history kept in memory, ms. Default 7 days. */
  retainMs?: number;
  /** Most movements per ledger write during a long `advanceTo`. Default 2 000. */
  maxBatch?: number;
}

export interface ToolApiWriter extends SourceWriter {
  /** Start serving (also done by the first `advanceTo`); resolves with the base URL. */
  start(): Promise<string>;
  /** Base URL, e.g. `http://127.0.0.1:41234`; throws before `start`. */
  readonly url: string;
  readonly store: ToolApiStore;
  readonly server: ToolApiServer;
  stats(): { written: number; faults: Record<string, number>; clock: number; sealedBefore: number | null };
}

/**
 * The tool crib's inventory API (docs/sources.md row 8): the simulator serves it over HTTP, and
 * `advanceTo` makes the movements due by then visible in it. The ledger records a movement's facts
 * once it is visible — `tool_checkouts` [toolId] at each 'out', `tool_use_ms` [toolId] (in − out)
 * at each 'in' — and seals at the newest movement's minute (nothing later can land before it).
 */
export function createToolApiWriter(ctx: ToolApiWriterOptions): ToolApiWriter {
  if (!Number.isInteger(ctx.seed)) throw new Error('tool api writer: seed must be an integer');
  const tools = generateToolMaster(ctx.seed);
  const maxBatch = ctx.maxBatch ?? 2_000;
  const malformedRate = Math.min(1, (ctx.faults?.malformedRate ?? 0.02) * ctx.faultRate);
  const model = createToolMovementModel({ seed: ctx.seed, startTime: ctx.startTime, floor: ctx.floor, tools });
  const faultRng = createRng(deriveSeed(ctx.seed, 'tool-api-malformed'));
  // Seqs start just above the start time (epoch ms; live: the time the run went live): a later run
  // continues the sequence, so a connector's cursor stays valid and ids never collide across runs
  // sharing one pipeline.
  const store = createToolApiStore({
    toolIds: tools.map((t) => t.toolId),
    startTime: ctx.startTime,
    seqBase: ctx.liveStart ?? ctx.startTime,
    retainMs: ctx.retainMs,
  });
  let clock = ctx.startTime;
  let pendingFaults: SourceFault[] = []; // injected by the server between ledger writes
  const server = createToolApiServer({
    store,
    faults: ctx.faults,
    scale: ctx.faultRate,
    rng: createRng(deriveSeed(ctx.seed, 'tool-api-requests')),
    onFault: (kind, detail) => {
      if (pendingFaults.length < 10_000) pendingFaults.push({ kind, detail, eventAt: clock });
    },
  });
  let url: string | null = null;
  let unrecorded: { facts: SourceFact[]; faults: SourceFault[]; moves: number; sealedBefore: number | null } | null =
    null;
  const stats = { written: 0, faults: {} as Record<string, number>, sealedBefore: null as number | null };

  /** Make the next movements before `until` visible; returns their ledger entry. */
  function publish(until: number): NonNullable<typeof unrecorded> {
    const cells = new Map<string, SourceFact>();
    const add = (fact: string, m: ToolMove, value: number) => {
      const minute = floorMinute(m.at);
      const key = `${fact}\u0000${minute}\u0000${m.toolId}`;
      const c = cells.get(key);
      if (c) c.value += value;
      else cells.set(key, { fact, minute, dims: [m.toolId], value });
    };
    const faults: SourceFault[] = [];
    let moves = 0;
    while (moves < maxBatch && model.peekTime() < until) {
      const m = model.next();
      const seq = store.record(m);
      moves++;
      if (m.action === 'out') add('tool_checkouts', m, 1);
      else if (m.outAt !== null) add('tool_use_ms', m, m.at - m.outAt);
      if (faultRng.chance(malformedRate)) {
        const flavour = faultRng.pick(TOOL_API_MALFORMED);
        const bad = {
          toolId: m.toolId as unknown,
          action: m.action as unknown,
          holder: m.holder,
          at: new Date(m.at).toISOString() as unknown,
        };
        if (flavour === 'bad_at') bad.at = 'not-a-date';
        else if (flavour === 'bad_action') bad.action = 'borrowed';
        else bad.toolId = null;
        const badSeq = store.recordMalformed(bad, m.at);
        faults.push({
          kind: 'malformed',
          detail: `${flavour} at seq ${badSeq} (after seq ${seq})`,
          eventAt: m.at,
          raw: JSON.stringify({ seq: badSeq, ...bad }),
        });
      }
    }
    clock = Math.max(clock, Math.min(until, model.peekTime()));
    const sealedBefore = moves > 0 ? floorMinute(store.latestAt) : null;
    return { facts: [...cells.values()], faults, moves, sealedBefore };
  }

  /** Record what became visible (and the request faults so far); a failure is retried next time. */
  async function settle(): Promise<void> {
    if (!unrecorded && pendingFaults.length === 0) return;
    const e = unrecorded ?? { facts: [], faults: [], moves: 0, sealedBefore: null };
    const faults = [...e.faults, ...pendingFaults];
    const taken = pendingFaults.length;
    try {
      await recordFacts(ctx.pool, ctx.ledgerSchema, {
        source: TOOL_API_SOURCE,
        facts: e.facts,
        faults,
        sealedBefore: e.sealedBefore,
      });
    } catch (err) {
      throw withContext(err, 'tool api writer: ledger write');
    }
    pendingFaults = pendingFaults.slice(taken);
    stats.written += e.moves;
    for (const f of faults) stats.faults[f.kind] = (stats.faults[f.kind] ?? 0) + 1;
    if (e.sealedBefore !== null) stats.sealedBefore = Math.max(stats.sealedBefore ?? e.sealedBefore, e.sealedBefore);
    unrecorded = null;
  }

  async function start(): Promise<string> {
    if (url === null) url = await server.listen(ctx.port ?? 0, ctx.host ?? '127.0.0.1');
    return url;
  }

  return {
    name: TOOL_API_SOURCE,
    store,
    server,
    start,
    get url() {
      if (url === null) throw new Error('tool api writer: not started');
      return url;
    },
    async advanceTo(t) {
      await start();
      await settle();
      do {
        unrecorded = publish(t);
        await settle();
      } while (model.peekTime() < t);
    },
    stats: () => ({ ...stats, faults: { ...stats.faults }, clock }),
    async close() {
      try {
        await settle();
      } finally {
        await server.close();
      }
    },
  };
}
