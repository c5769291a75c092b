import { MillraceError } from '../lib/errors.ts';

/**
 * A compressed record batch that cannot be read (its codec fails on it, or what it decompresses to
 * is not the records its header announces) would fail every fetch of its partition, for good:
 * kafkajs decodes a whole fetch response before it hands out any record. This guard sits between
 * kafkajs and a codec. The first attempts fail, so that the consumer retries (and shows why); once
 * the same batch failed {@link UNREADABLE_ATTEMPTS} times, the guard answers with one placeholder
 * record per record of the batch, at the batch's own offsets, each carrying the
 * {@link UNREADABLE_HEADER} header with the reason. Readers see them as `TopicRecord.unreadable`
 * and dead-letter the range; the records around the batch are read as usual.
 *
 * Only the bytes of one batch can land here: a broker or network error never reaches a codec, so it
 * is retried for as long as it lasts and is never dead-lettered.
 */

/** Decoding attempts of one batch before its records become placeholders (1 s and 2 s apart). */
export const UNREADABLE_ATTEMPTS = 3;
/** Header of a placeholder record; its value is the reason. */
export const UNREADABLE_HEADER = 'millrace-unreadable';

/**
 * The v2 record batch header before a compressed records section: firstOffset(8) length(4)
 * leaderEpoch(4) magic(1) crc(4) attributes(2) lastOffsetDelta(4) firstTimestamp(8)
 * maxTimestamp(8) producerId(8) producerEpoch(2) firstSequence(4) recordCount(4).
 */
const HEADER_BYTES = 61;

export interface BatchHeader {
  firstOffset: bigint;
  lastOffsetDelta: number;
  count: number;
  crc: number;
  producerId: bigint;
}

/**
 * kafkajs hands a codec a view (`Buffer.slice`) of the fetch response, so the batch header lies just
 * before it in the same memory. Read it only when every field agrees with that view (the magic, the
 * length, the codec's attribute bits); null otherwise, and the batch is only retried.
 */
export function batchHeaderOf(compressed: Buffer, codecType: number): BatchHeader | null {
  const start = compressed.byteOffset - HEADER_BYTES;
  if (start < 0) return null;
  const h = Buffer.from(compressed.buffer, start, HEADER_BYTES);
  if (h.readInt8(16) !== 2) return null;
  if (h.readInt32BE(8) !== HEADER_BYTES - 12 + compressed.length) return null;
  if ((h.readInt16BE(21) & 0x7) !== codecType) return null;
  const count = h.readInt32BE(57);
  const lastOffsetDelta = h.readInt32BE(23);
  if (count <= 0 || lastOffsetDelta < count - 1) return null;
  return {
    firstOffset: h.readBigInt64BE(0),
    lastOffsetDelta,
    count,
    crc: h.readUInt32BE(17),
    producerId: h.readBigInt64BE(43),
  };
}

/** Whether `records` holds exactly `count` length-prefixed records (a v2 records section). */
export function holdsRecords(records: Buffer, count: number): boolean {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const v = readVarInt(records, at);
    if (!v || v.value < 0) return false;
    at = v.next + v.value;
    if (at > records.length) return false;
  }
  return at === records.length;
}

const attempts = new Map<string, number>();

/**
 * Wrap a codec's decompress with the guard above. `name` and `codecType` (kafkajs' CompressionTypes
 * value) say which codec in the reason and in the header check.
 */
export function guardDecompress(
  name: string,
  codecType: number,
  decompress: (b: Buffer) => Promise<Buffer>,
): (b: Buffer) => Promise<Buffer> {
  return async (compressed) => {
    const header = batchHeaderOf(compressed, codecType);
    let failure: unknown;
    try {
      const out = await decompress(compressed);
      if (!header || holdsRecords(out, header.count)) return out;
      failure = new Error(`it decompresses to ${out.length} bytes that are not the ${header.count} records announced`);
    } catch (err) {
      failure = err;
    }
    const why = failure instanceof Error ? failure.message : String(failure);
    if (!header)
      throw new MillraceError('KAFKA_UNREADABLE_BATCH', `a ${name} batch cannot be read: ${why}`, { cause: failure });
    const from = header.firstOffset;
    const to = from + BigInt(header.lastOffsetDelta);
    const key = `${from}:${header.crc}:${header.producerId}`;
    const n = (attempts.get(key) ?? 0) + 1;
    if (n < UNREADABLE_ATTEMPTS) {
      if (attempts.size > 1000) attempts.clear(); // only ever a few; never let it grow
      attempts.set(key, n);
      throw new MillraceError(
        'KAFKA_UNREADABLE_BATCH',
        `the ${name} batch at offsets ${from}..${to} cannot be read (attempt ${n} of ${UNREADABLE_ATTEMPTS}): ${why}`,
        { cause: failure },
      );
    }
    attempts.delete(key);
    return placeholders(
      header,
      `the ${name} batch at offsets ${from}..${to} could not be read in ${UNREADABLE_ATTEMPTS} attempts: ${why}`,
    );
  };
}

/** `count` records (offset deltas 0, 1, … and the batch's last), no key, no value, the reason as a header. */
function placeholders(h: BatchHeader, reason: string): Buffer {
  const hkey = Buffer.from(UNREADABLE_HEADER);
  const hval = Buffer.from(reason);
  const parts: Buffer[] = [];
  for (let i = 0; i < h.count; i++) {
    const delta = i === h.count - 1 ? h.lastOffsetDelta : i;
    const body = Buffer.concat([
      Buffer.from([0]), // attributes
      varInt(0), // timestamp delta
      varInt(delta),
      varInt(-1), // key: null
      varInt(-1), // value: null
      varInt(1), // one header
      varInt(hkey.length),
      hkey,
      varInt(hval.length),
      hval,
    ]);
    parts.push(varInt(body.length), body);
  }
  return Buffer.concat(parts);
}

/** Kafka's zigzag varint. */
function varInt(n: number): Buffer {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}

function readVarInt(b: Buffer, at: number): { value: number; next: number } | null {
  let z = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= b.length) return null;
    const byte = b[at++];
    z |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value: (z >>> 1) ^ -(z & 1), next: at };
  }
  return null;
}
