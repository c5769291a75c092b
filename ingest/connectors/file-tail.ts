import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
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
  return createHash('sha256').update(await readAt(fh, 0, len)).digest('hex');
}

/**
 * Where to continue in a file: the saved state when the file is still the one it describes (its
 * fingerprinted prefix unchanged, not shorter than the offset), else from the start, saying why.
 */
export async function resumeTail(fh: FileHandle, size: number, prev: TailState | undefined): Promise<{ state: TailState; reset: Reset }> {
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
  text: string;
}

/**
 * The complete lines after `state.offset` (at most `maxBytes` of them, but always at least one
 * line), and the state after them. A last line without its newline is left for a later read.
 */
export async function readCompleteLines(fh: FileHandle, size: number, state: TailState, maxBytes: number): Promise<{ lines: TailLine[]; next: TailState }> {
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
  const texts = buf.subarray(0, end).toString('utf8').split('\n');
  const lines = texts.map((text, i) => ({ no: state.line + i + 1, text: text.endsWith('\r') ? text.slice(0, -1) : text }));
  return { lines, next: { ...state, offset: state.offset + end + 1, line: state.line + texts.length } };
}

/** `^…` is a regular expression; anything else a glob where `*` and `?` match inside a file name. */
export function fileNameMatcher(pattern: string): RegExp {
  if (pattern.startsWith('^')) {
    try {
      return new RegExp(pattern);
    } catch (err) {
      throw new MillraceError('CONFIG_INVALID', `file pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`, { cause: err });
    }
  }
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}
