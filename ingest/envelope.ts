import { z } from 'zod';

/**
 * The event envelope every connector emits and the log carries (ARCHITECTURE.md, protocol step 1).
 * `id` is deterministic: re-reading a source yields the same id, so the loader's primary key dedups.
 * Measures inside `payload` are integers in fixed-point units (ms, Wh, centi-°C).
 */
export const envelopeSchema = z.object({
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  key: z.string().min(1),
  /** Event time, epoch milliseconds (UTC). */
  eventTime: z.number().int().nonnegative(),
  payload: z.record(z.string(), z.unknown()),
});

export type Envelope = z.infer<typeof envelopeSchema>;

/** An envelope as the loader accepted it: with the log position it was read from. */
export interface AcceptedEvent extends Envelope {
  partition: number;
  offset: number;
}
