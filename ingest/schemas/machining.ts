import { z } from 'zod';
import type { Envelope } from '../envelope.ts';
import { heatEnvelope } from './heat.ts';

/** The machining topic's message (MYCPU.md "Live machining data"), validated field by field. */
export const machiningMessage = z
  .object({
    eventId: z.string().min(1).max(200),
    kind: z.enum(['enter', 'exit']),
    // Every string bounded: they become log keys and dimension values; a runaway field is bad input.
    partId: z.string().min(1).max(200),
    station: z.string().min(1).max(40),
    machine: z.string().min(1).max(200),
    operator: z.string().min(1).max(200),
    at: z.iso.datetime({ offset: true }),
    nextStation: z.string().max(40).nullable(),
    errorCode: z.string().max(40).nullable(),
    cycleTimeMs: z.number().int().nonnegative().nullable(),
  })
  .refine((m) => m.kind === 'enter' || m.cycleTimeMs !== null, {
    message: 'an exit needs cycleTimeMs',
    path: ['cycleTimeMs'],
  });

// Dimension values may not contain the state-key separator.
const clean = (v: string | null) => (v === null ? null : v.replace(/\u001f/g, ' '));

/**
 * Message → envelope. The id comes from the message's own eventId, not from its Kafka position:
 * a duplicate the factory re-sends hours later lands at another offset but is the same event.
 */
export function machiningEnvelope(value: string, source: string): Envelope | string {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return 'not JSON';
  }
  const m = machiningMessage.safeParse(json);
  if (!m.success) return m.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
  const d = m.data;
  return {
    id: `machining:${d.eventId}`,
    source,
    type: `machining.${d.kind}`,
    key: d.partId,
    eventTime: Date.parse(d.at),
    payload: {
      partId: d.partId,
      station: clean(d.station),
      machine: d.machine,
      operator: d.operator,
      nextStation: d.nextStation,
      errorCode: clean(d.errorCode),
      cycleTimeMs: d.cycleTimeMs,
    },
  };
}

/** Message schemas by name, chosen per source topic in config. */
export const messageSchemas = { machining: machiningEnvelope, heat: heatEnvelope } as const;
export type MessageSchemaName = keyof typeof messageSchemas;
