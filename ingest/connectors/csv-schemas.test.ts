import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createRng } from '../../simulator/prng.ts';
import { parseCsvLine, parseCsvLineWithCsvParse } from './csv-schemas.ts';

describe('parseCsvLine', () => {
  it('reads a line exactly as csv-parse does (its fast path only splits lines with no quote or CR)', () => {
    // Everything that matters to csv-parse's tokenizer and trimming, and what merely looks like it.
    const alphabet = [
      ',',
      ',',
      ',',
      '"',
      ' ',
      ' ',
      '\t',
      '\f',
      '\v',
      '\r',
      '\n',
      '\u00a0',
      '\ufeff',
      '\u2028',
      '\u3000',
      '\u0000',
      '#',
      ';',
      '\\',
      "'",
      'a',
      'b',
      'Z',
      '0',
      '7',
      '-',
      ':',
      '.',
      'T',
      'é',
      '€',
      '😀',
      '\ud83d',
      '\ude00',
    ];
    const random = createRng(20260101);
    const next = () => random.next();
    let fast = 0;
    for (let i = 0; i < 10_000; i++) {
      const len = Math.floor(next() * 14);
      let line = '';
      for (let k = 0; k < len; k++) line += alphabet[Math.floor(next() * alphabet.length)];
      assert.deepEqual(parseCsvLine(line), parseCsvLineWithCsvParse(line), `line ${JSON.stringify(line)}`);
      if (!/["\r\n]/.test(line)) fast++;
    }
    assert.ok(fast > 2_500, 'most random lines took the fast path');
  });

  it('keeps the energy file shapes: fields, blanks around them, the errors of a stray quote or a lone blank line', () => {
    const cases = [
      '2026-03-01T00:00:00.000Z,M-01,1234',
      ' 2026-03-01T00:15:00Z , M-02 ,\t77 ',
      '2026-03-01T00:15:00Z,M-02',
      '2026-03-01T00:15:00Z,M-02,1,2',
      ',,',
      'garbage',
      '   ',
      '',
      '2026-03-01T00:30:00Z,"M-03",5',
      '2026-03-01T00:30:00Z,M-"03,5',
      '"unclosed,2026,1',
      'a\rb,c',
    ];
    for (const line of cases)
      assert.deepEqual(parseCsvLine(line), parseCsvLineWithCsvParse(line), `line ${JSON.stringify(line)}`);
    assert.deepEqual(parseCsvLine(' 2026-03-01T00:15:00Z , M-02 ,\t77 '), ['2026-03-01T00:15:00Z', 'M-02', '77']);
    assert.equal(parseCsvLine('   '), 'expected one record, got 0');
    assert.match(parseCsvLine('"unclosed,2026,1') as string, /^unparsable CSV: /);
  });
});
