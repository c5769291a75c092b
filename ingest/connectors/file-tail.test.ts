import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCompleteLines, resumeTail } from './file-tail.ts';

// What Windows tools write: a UTF-8 byte-order mark (Excel's "CSV UTF-8", Notepad), CRLF line
// ends, and files in windows-1252 (Excel's plain "CSV" on a western-European PC).
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function linesOf(bytes: Buffer, encoding?: 'utf-8' | 'windows-1252' | 'iso-8859-1') {
  const dir = await mkdtemp(join(tmpdir(), 'file-tail-'));
  dirs.push(dir);
  await writeFile(join(dir, 'f.csv'), bytes);
  const fh = await open(join(dir, 'f.csv'), 'r');
  try {
    const { size } = await fh.stat();
    const { state } = await resumeTail(fh, size, undefined);
    return await readCompleteLines(fh, size, state, 1 << 20, encoding);
  } finally {
    await fh.close();
  }
}

describe('readCompleteLines', () => {
  it('drops a UTF-8 BOM and CRs, keeps byte offsets exact', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\r\nc,d\r\ne')]);
    const { lines, next } = await linesOf(bytes);
    assert.deepEqual(lines, [
      { no: 1, text: 'a,b', invalid: null },
      { no: 2, text: 'c,d', invalid: null },
    ]);
    assert.equal(next.offset, bytes.length - 1, 'the unfinished last line is left');
  });

  it('decodes a declared windows-1252 / iso-8859-1 file', async () => {
    const bytes = Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x2c, 0x80, 0x0d, 0x0a]); // "Müller,€"
    assert.deepEqual((await linesOf(bytes, 'windows-1252')).lines, [{ no: 1, text: 'Müller,€', invalid: null }]);
    assert.equal((await linesOf(bytes.subarray(0, 6), 'iso-8859-1')).lines.length, 0, 'no newline yet');
    assert.equal((await linesOf(Buffer.from([0x4d, 0xfc, 0x0a]), 'iso-8859-1')).lines[0].text, 'Mü');
  });

  it('marks a line whose bytes are not valid in the declared encoding (the default, UTF-8)', async () => {
    const [line] = (await linesOf(Buffer.from([0x4d, 0xfc, 0x6c, 0x0a]))).lines;
    assert.equal(line.text, 'M\uFFFDl');
    assert.match(line.invalid ?? '', /not valid utf-8 \(declare the file's encoding\)/);
  });
});
