import { describe, expect, it } from 'vitest';
import type { ParsedItem } from '../../src/formats/bytes.js';
import { parseNdjson } from '../../src/formats/ndjson.js';
import { byteByByte, chunks, collect } from '../helpers/rows.js';

// parseNdjson (src/modules/predictions/parse.ts) reads a stream of bytes cut anywhere into one item
// per non-blank line, with its line number, or an error for that line; it reads no further ahead
// than it must, and a line longer than the limit is an error, not a memory problem.

const jsonError = (text: string) => {
  try {
    JSON.parse(text);
  } catch (error) {
    return `is not valid JSON: ${(error as Error).message}`;
  }
  throw new Error('valid JSON');
};

describe('parseNdjson', () => {
  const text = '{"a":1}\r\n\r\n   \n{"a":2}\n{oops\n{"a":"é🚀"}';
  const expected: ParsedItem[] = [
    { line: 1, item: { a: 1 } },
    { line: 4, item: { a: 2 } },
    { line: 5, error: jsonError('{oops') },
    { line: 6, item: { a: 'é🚀' } },
  ];

  it('yields one item per line, skipping blank lines, with CRLF, a bad line in the middle and no final newline', async () => {
    expect(await collect(parseNdjson(chunks(text)))).toEqual(expected);
    expect(expected[2]).toEqual({ line: 5, error: expect.stringMatching(/^is not valid JSON: /) });
  });

  it('gives the same answer however the input is cut into chunks', async () => {
    expect(await collect(parseNdjson(byteByByte(text)))).toEqual(expected);
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await collect(parseNdjson(chunks(bytes.subarray(0, cut), bytes.subarray(cut))))).toEqual(expected);
    }
  });

  it('decodes a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('{"city":"Zürich 🚀"}\n');
    const rocket = bytes.indexOf(Buffer.from('🚀'));
    for (const cut of [bytes.indexOf(Buffer.from('ü')) + 1, rocket + 1, rocket + 2, rocket + 3]) {
      expect(await collect(parseNdjson(chunks(bytes.subarray(0, cut), bytes.subarray(cut))))).toEqual([
        { line: 1, item: { city: 'Zürich 🚀' } },
      ]);
    }
  });

  it('accepts string chunks and a UTF-8 byte order mark, even split', async () => {
    expect(await collect(parseNdjson(chunks('{"a":', '1}\n', '{"b":2}\n')))).toEqual([
      { line: 1, item: { a: 1 } },
      { line: 2, item: { b: 2 } },
    ]);
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(
      await collect(parseNdjson(chunks(bom.subarray(0, 1), bom.subarray(1, 2), Buffer.concat([bom.subarray(2), Buffer.from('{"a":1}')])))),
    ).toEqual([{ line: 1, item: { a: 1 } }]);
  });

  it('reports invalid UTF-8 on its line', async () => {
    const bytes = Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"a":3}\n')]);
    const expectedItems = [
      { line: 1, item: { a: 1 } },
      { line: 2, error: 'is not valid UTF-8' },
      { line: 3, item: { a: 3 } },
    ];
    expect(await collect(parseNdjson(chunks(bytes)))).toEqual(expectedItems);
    expect(await collect(parseNdjson(byteByByte(bytes)))).toEqual(expectedItems);
  });

  it('yields other JSON values as they are, for normalizeRow to refuse', async () => {
    expect(await collect(parseNdjson(chunks('[1]\n"x"\nnull\n')))).toEqual([
      { line: 1, item: [1] },
      { line: 2, item: 'x' },
      { line: 3, item: null },
    ]);
  });

  it('holds lines up to maxLineBytes (CR not counted) and refuses longer ones', async () => {
    const ten = '{"a":"12"}';
    const input = `${ten}\r\n${ten}\n{"a":"123"}\n${ten}`;
    const expectedItems = [
      { line: 1, item: { a: '12' } },
      { line: 2, item: { a: '12' } },
      { line: 3, error: 'is longer than 10 bytes' },
      { line: 4, item: { a: '12' } },
    ];
    expect(await collect(parseNdjson(chunks(input), { maxLineBytes: 10 }))).toEqual(expectedItems);
    expect(await collect(parseNdjson(byteByByte(input), { maxLineBytes: 10 }))).toEqual(expectedItems);
  });

  it('refuses a 2 MiB line under a 1 MiB limit without buffering the rest of it', async () => {
    const chunkSize = 64 * 1024;
    let produced = 0;
    async function* input() {
      yield '{"a":1}\n{"blob":"';
      for (let i = 0; i < 32; i++) {
        produced++;
        yield 'x'.repeat(chunkSize);
      }
      yield '"}\n{"a":3}\n';
    }
    const seen: { item: ParsedItem; produced: number }[] = [];
    for await (const item of parseNdjson(input(), { maxLineBytes: 1024 * 1024 })) seen.push({ item, produced });
    expect(seen.map((s) => s.item)).toEqual([
      { line: 1, item: { a: 1 } },
      { line: 2, error: 'is longer than 1048576 bytes' },
      { line: 3, item: { a: 3 } },
    ]);
    // The error comes as soon as the line passes 1 MiB (16 chunks of 64 KiB), not at its end.
    expect(seen[1]!.produced).toBe(16);
    // The default limit is 1 MiB too, and a long line inside a single chunk is refused the same way.
    expect(await collect(parseNdjson(chunks(`{"blob":"${'x'.repeat(2 * 1024 * 1024)}"}\n{"a":3}`)))).toEqual([
      { line: 1, error: 'is longer than 1048576 bytes' },
      { line: 2, item: { a: 3 } },
    ]);
  });

  it('stops reading its input when the consumer stops', async () => {
    let finished = false;
    async function* input() {
      try {
        for (let i = 0; ; i++) yield `{"i":${i}}\n`;
      } finally {
        finished = true;
      }
    }
    for await (const item of parseNdjson(input())) if ('item' in item && item.line === 3) break;
    expect(finished).toBe(true);
  });
});
