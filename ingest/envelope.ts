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

/** Largest event the log takes: the broker's 1 MiB message limit less room for the batch framing. */
export const MAX_EVENT_BYTES = 900 * 1024;

/**
 * Why an encoded event cannot go to the log, or null. Too big: the log's broker refuses it however
 * often it is retried, which would stall the connector for good. U+FFFD: the source's bytes were not
 * UTF-8 (a Latin-1 name, a UTF-16 producer), so storing it would keep a mangled id or name.
 * A NUL: the loader's jsonb column refuses it on every retry.
 * Connectors dead-letter such an event at its position and read on.
 */
export function unpublishable(value: string): string | null {
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_EVENT_BYTES) return `event of ${bytes} bytes is over the log's limit of ${MAX_EVENT_BYTES}`;
  if (value.includes('\uFFFD')) return 'not valid UTF-8 (the source wrote bytes in another encoding)';
  // JSON.stringify writes a NUL as \u0000, which the loader's jsonb refuses on every retry.
  if (value.includes('\\u0000')) return 'contains a NUL character (binary data in a text field)';
  return null;
}
