import kafkajs from 'kafkajs';
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import { decompress as zstdDecompress } from 'fzstd';
import { promisify } from 'node:util';
import { gunzip, gzip as gzipCompress } from 'node:zlib';
import { MillraceError } from '../lib/errors.ts';
import { guardDecompress } from './unreadable-batch.ts';

/**
 * Java clients (snappy-java's SnappyOutputStream) wrap snappy in "xerial" framing: an 8-byte magic,
 * two version ints, then blocks of [int32 length][raw snappy]. librdkafka and most others write raw
 * snappy. Both appear on real plants; the magic tells them apart.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

export function decodeSnappy(buf: Buffer): Buffer {
  if (buf.length < XERIAL_HEADER || !buf.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyDecompress(buf);
  const parts: Buffer[] = [];
  let at = XERIAL_HEADER;
  while (at < buf.length) {
    if (at + 4 > buf.length)
      throw new MillraceError('KAFKA_CODEC', `truncated xerial snappy block header at byte ${at}`);
    const size = buf.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > buf.length)
      throw new MillraceError('KAFKA_CODEC', `xerial snappy block of ${size} bytes at byte ${at} runs past the batch`);
    parts.push(snappyDecompress(buf.subarray(at, at + size)));
    at += size;
  }
  return Buffer.concat(parts);
}

/** A kafkajs codec: `compress` takes its Encoder (only `.buffer` is used), `decompress` a Buffer. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const snappy: Codec = {
  compress: async (e) => snappyCompress(e.buffer),
  decompress: async (b) => decodeSnappy(b),
};
// Kafka's LZ4 (record batch v2) is the standard LZ4 frame format.
const lz4: Codec = {
  compress: async (e) => lz4Compress(e.buffer),
  decompress: async (b) => lz4Decompress(b),
};
const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzipCompress);
const gzip: Codec = {
  compress: async (e) => gzipAsync(e.buffer),
  decompress: async (b) => gunzipAsync(b),
};
const zstd: Codec = {
  // millrace writes through @platformatic/kafka, never with kafkajs: only reading is needed, and
  // Node 20's zlib has no zstd (fzstd is a pure-JS decompressor).
  compress: async () => {
    throw new MillraceError(
      'KAFKA_CODEC',
      'zstd compression is not supported by the kafkajs reader (millrace only decompresses zstd)',
    );
  },
  decompress: async (b) => Buffer.from(zstdDecompress(b)),
};

/**
 * Teach kafkajs every codec Kafka has (it ships gzip only and fails a whole fetch on any other with
 * "Snappy compression not implemented"). kafkajs keeps codecs in one table of its module, so this
 * writes to it; doing it again is harmless. Called by every Kafka topic before its first consumer.
 */
export function registerKafkaCodecs(): void {
  // kafkajs is CommonJS and builds these exports in a way Node's ESM named-export detection misses.
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const codecs = CompressionCodecs as Record<number, () => Codec>;
  // Every codec, gzip included, behind the unreadable-batch guard: a batch that cannot be
  // decompressed is retried a few times, then read as placeholders its readers dead-letter.
  const guarded = (name: string, type: number, c: Codec): Codec => ({
    compress: c.compress,
    decompress: guardDecompress(name, type, c.decompress),
  });
  const table: Array<[string, number, Codec]> = [
    ['gzip', CompressionTypes.GZIP, gzip],
    ['snappy', CompressionTypes.Snappy, snappy],
    ['lz4', CompressionTypes.LZ4, lz4],
    ['zstd', CompressionTypes.ZSTD, zstd],
  ];
  for (const [name, type, codec] of table) {
    const g = guarded(name, type, codec);
    codecs[type] = () => g;
  }
}
