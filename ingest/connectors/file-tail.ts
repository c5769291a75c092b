import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import iconv from 'iconv-lite';
import { MillraceError } from '../../lib/errors.ts';

/**
 * Tailing one file the way Filebeat and Fluent Bit do: the position is (fingerprint, byte offset),
 * so a new file, a truncated file and a file rewritten with other content are all told apart from
 * a file that only grew, and only complete lines are ever consumed.
 */
export interface TailState {
  /** sha256 (hex) of the file's first `fpLen` bytes. */
  fingerprint: string;
  /** Bytes fingerprinted: up to FINGERPRINT_BYTES; grows with a young file. */
  fpLen: number;
  /** Bytes of complete lines consumed. */
  offset: number;
  /** Lines consumed (the next line's number is `line + 1`). */
  line: number;
}

export const FINGERPRINT_BYTES = 256;

export type Reset = 'new' | 'truncated' | 'rewritten' | null;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

async function fingerprintOf(fh: FileHandle, len: number): Promise<string> {
  return createHash('sha256')
    .update(await readAt(fh, 0, len))
    .digest('hex');
}

/**
 * Where to continue in a file: the saved state when the file is still the one it describes (its
 * fingerprinted prefix unchanged, not shorter than the offset), else from the start, saying why.
 */
export async function resumeTail(
  fh: FileHandle,
  size: number,
  prev: TailState | undefined,
): Promise<{ state: TailState; reset: Reset }> {
  const fresh = async (reset: Reset) => {
    const fpLen = Math.min(size, FINGERPRINT_BYTES);
    return { state: { fingerprint: await fingerprintOf(fh, fpLen), fpLen, offset: 0, line: 0 }, reset };
  };
  if (!prev) return fresh('new');
  if (size < prev.offset || size < prev.fpLen) return fresh('truncated');
  if ((await fingerprintOf(fh, prev.fpLen)) !== prev.fingerprint) return fresh('rewritten');
  if (prev.fpLen < FINGERPRINT_BYTES && size > prev.fpLen) {
    // The file grew past the bytes fingerprinted so far: the old prefix matched, so extend it.
    const fpLen = Math.min(size, FINGERPRINT_BYTES);
    return { state: { ...prev, fingerprint: await fingerprintOf(fh, fpLen), fpLen }, reset: null };
  }
  return { state: prev, reset: null };
}

export interface TailLine {
  /** 1-based line number in the file. */
  no: number;
  /** The line, decoded (bytes the encoding has no character for become U+FFFD), without BOM or CR. */
  text: string;
  /** Why the line's bytes are not valid in the declared encoding; null when they are. */
  invalid: string | null;
}

/**
 * Encodings a tailed file may declare. Each keeps `\n` a single 0x0A byte, so lines are found in
 * the bytes before decoding (UTF-16 does not, and is not offered).
 */
export const TAIL_ENCODINGS = ['utf-8', 'windows-1252', 'iso-8859-1', 'iso-8859-15'] as const;
export type TailEncoding = (typeof TAIL_ENCODINGS)[number];

function lineDecoder(encoding: TailEncoding) {
  const reason = `bytes that are not valid ${encoding} (declare the file's encoding)`;
  if (encoding === 'utf-8') {
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    return (bytes: Buffer): { text: string; invalid: string | null } => {
      try {
        return { text: strict.decode(bytes), invalid: null };
      } catch {
        return { text: bytes.toString('utf8'), invalid: reason };
      }
    };
  }
  // Node 20's TextDecoder decodes windows-1252 as latin1 (0x80 → U+0080, not €): iconv-lite has the
  // real tables. A byte the code page leaves undefined (0x81 in windows-1252) decodes to U+FFFD.
  return (bytes: Buffer): { text: string; invalid: string | null } => {
    const text = iconv.decode(bytes, encoding);
    return { text, invalid: text.includes('\uFFFD') ? reason : null };
  };
}

/**
 * The complete lines after `state.offset` (at most `maxBytes` of them, but always at least one
 * line), and the state after them. A last line without its newline is left for a later read.
 */
export async function readCompleteLines(
  fh: FileHandle,
  size: number,
  state: TailState,
  maxBytes: number,
  encoding: TailEncoding = 'utf-8',
): Promise<{ lines: TailLine[]; next: TailState }> {
  let want = Math.min(size - state.offset, maxBytes);
  let buf = await readAt(fh, state.offset, want);
  let end = buf.lastIndexOf(0x0a);
  while (end < 0 && buf.length === want && state.offset + want < size) {
    // One line longer than maxBytes: read on until its end rather than stall on it forever.
    want = Math.min(size - state.offset, want * 2);
    buf = await readAt(fh, state.offset, want);
    end = buf.lastIndexOf(0x0a);
  }
  if (end < 0) return { lines: [], next: state };
  const decode = lineDecoder(encoding);
  const lines: TailLine[] = [];
  let from = 0;
  for (let i = 0; from <= end; i++) {
    const nl = buf.indexOf(0x0a, from);
    let bytes = buf.subarray(from, nl);
    from = nl + 1;
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1); // CRLF (Windows tools)
    // A byte-order mark opens files saved by Excel and Notepad: it is not part of the first field.
    if (
      state.offset === 0 &&
      i === 0 &&
      encoding === 'utf-8' &&
      bytes[0] === 0xef &&
      bytes[1] === 0xbb &&
      bytes[2] === 0xbf
    )
      bytes = bytes.subarray(3);
    lines.push({ no: state.line + i + 1, ...decode(bytes) });
  }
  return { lines, next: { ...state, offset: state.offset + end + 1, line: state.line + lines.length } };
}

/** `^…` is a regular expression; anything else a glob where `*` and `?` match inside a file name. */
export function fileNameMatcher(pattern: string): RegExp {
  if (pattern.startsWith('^')) {
    try {
      return new RegExp(pattern);
    } catch (err) {
      throw new MillraceError('CONFIG_INVALID', `file pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}
