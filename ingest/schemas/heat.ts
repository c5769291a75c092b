import { z } from 'zod';
import type { Envelope } from '../envelope.ts';

/** The heat topic's message (MYCPU.md "Heat sensors"; docs/sources.md row 1), validated field by field. */
export const heatMessage = z.object({
  readingId: z.string().min(1).max(200),
  sensorId: z.string().min(1).max(40),
  zone: z.string().min(1).max(40),
  at: z.iso.datetime({ offset: true }),
  /** centi-°C; bounded to what a factory sensor can physically report (absolute zero … 2000 °C). */
  centiC: z.number().int().min(-27_315).max(200_000),
});

// Dimension values may not contain the state-key separator.
const clean = (v: string) => v.replace(/\u001f/g, ' ');

/**
 * Message → envelope. The id comes from the reading's own id, not its Kafka position, so a
 * duplicate the sensor gateway re-sends later lands at another offset but is the same event.
 */
export function heatEnvelope(value: string, source: string): Envelope | string {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return 'not JSON';
  }
  const m = heatMessage.safeParse(json);
  if (!m.success) return m.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
  const d = m.data;
  return {
    id: `heat:${d.readingId}`,
    source,
    type: 'heat.reading',
    key: d.sensorId,
    eventTime: Date.parse(d.at),
    payload: { sensorId: clean(d.sensorId), zone: clean(d.zone), centiC: d.centiC },
  };
}
