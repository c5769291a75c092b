import { z } from 'zod';
import type { Envelope } from '../envelope.ts';

/** One movement of the tool inventory API (docs/sources.md row 8), validated field by field. */
export const toolMovement = z.object({
  seq: z.number().int().positive(),
  toolId: z.string().min(1).max(40),
  action: z.enum(['out', 'in']),
  /** Employee id of the worker taking or returning the tool (null only if the API does not know). */
  holder: z.string().min(1).max(40).nullable(),
  at: z.iso.datetime({ offset: true }),
});

/** One page of `GET /api/tool-movements`: items are checked one by one (a bad one is dead-lettered). */
export const movementPage = z.object({
  items: z.array(z.looseObject({ seq: z.number().int().positive() })),
  next: z.number().int().nonnegative().nullable(),
  latestSeq: z.number().int().nonnegative(),
});

// Dimension values may not contain the state-key separator.
const clean = (v: string) => v.replace(/\u001f/g, ' ');

/**
 * A movement → `tool.out` / `tool.in`, or the reason it is rejected. The id is the API's own seq,
 * so a page read again after a crash yields the same ids; key = toolId keeps one tool's movements
 * in one log partition, in seq order, for the loader's out → in pairing.
 */
export function toolMovementEnvelope(item: unknown, source: string): Envelope | string {
  const m = toolMovement.safeParse(item);
  if (!m.success) return m.error.issues.map((i) => `${i.path.join('.') || 'movement'}: ${i.message}`).join('; ');
  const d = m.data;
  const toolId = clean(d.toolId);
  return {
    id: `rest:tool-movement:${d.seq}`,
    source,
    type: d.action === 'out' ? 'tool.out' : 'tool.in',
    key: toolId,
    eventTime: Date.parse(d.at),
    payload: { toolId, holder: d.holder === null ? null : clean(d.holder), seq: d.seq },
  };
}
