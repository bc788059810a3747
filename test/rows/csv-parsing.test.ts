import { describe, expect, it } from 'vitest';
import type { ParsedItem } from '../../src/formats/bytes.js';
import { parseCsv } from '../../src/modules/rows/csv.js';
import { normalizeRow } from '../../src/modules/rows/normalize.js';
import type { TargetShape } from '../../src/modules/rows/shape.js';
import { binary, byteByByte, chunks, collect, feature, multiclass, newContext, regression } from '../helpers/rows.js';

// parseCsv reads RFC 4180 CSV (quoted cells, escaped quotes, quoted newlines, CRLF, a BOM), cut
// anywhere, into items shaped like the JSON routes' rows: feature columns, then the target columns
// the deployment's type needs (prediction, or one probability column per class). A bad header or
// record is an error naming its line.

describe('parseCsv', () => {
  it('reads quoted cells, escaped quotes, quoted newlines, CRLF and a BOM', async () => {
    const text =
      '\ufeffprediction,age,city,income,associationId,timestamp\r\n' +
      '1.5,42,"Paris, ""the"" city",100,a-1,2024-05-01T12:00:00Z\r\n' +
      '2,7,"two\r\nlines",,a-2,\r\n' +
      '3,,,,,\r\n';
    const expected: ParsedItem[] = [
      {
        line: 2,
        item: {
          features: { age: '42', city: 'Paris, "the" city', income: '100' },
          prediction: '1.5',
          associationId: 'a-1',
          timestamp: '2024-05-01T12:00:00Z',
        },
      },
      {
        line: 3,
        item: { features: { age: '7', city: 'two\r\nlines', income: null }, prediction: '2', associationId: 'a-2', timestamp: null },
      },
      { line: 5, item: { features: { age: null, city: null, income: null }, prediction: '3', associationId: null, timestamp: null } },
    ];
    expect(await collect(parseCsv(chunks(text), regression))).toEqual(expected);
    expect(await collect(parseCsv(byteByByte(text), regression))).toEqual(expected);
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await collect(parseCsv(chunks(bytes.subarray(0, cut), bytes.subarray(cut)), regression))).toEqual(expected);
    }
  });

  it('feeds normalizeRow, which does the validation', async () => {
    const context = newContext();
    const text = 'age,city,prediction,colour\n42,Paris,1.5,red\nold,x,2,blue\n';
    const rows = [];
    for await (const parsed of parseCsv(chunks(text), regression)) {
      if ('item' in parsed) rows.push(normalizeRow(regression, parsed.item, `line ${parsed.line}`, context));
    }
    expect(rows).toEqual([
      {
        timestamp: null,
        features: { age: 42, city: 'Paris', income: null },
        prediction: 1.5,
        probabilities: null,
        predictedLabel: null,
        associationId: null,
      },
      { field: 'line 3.features.age', message: 'must be a finite number, got "old"' },
    ]);
    expect([...context.unknownFeatures]).toEqual(['colour']);
  });

  it('reads one probability column per class; a row with every class cell empty has null probabilities', async () => {
    const text = 'c,age,a,b\n0.2,1,0.5,0.3\n,2,,\n0.1,3,,0.9\n';
    expect(await collect(parseCsv(chunks(text), multiclass))).toEqual([
      { line: 2, item: { features: { age: '1' }, probabilities: { a: '0.5', b: '0.3', c: '0.2' } } },
      { line: 3, item: { features: { age: '2' }, probabilities: null } },
      { line: 4, item: { features: { age: '3' }, probabilities: { a: null, b: '0.9', c: '0.1' } } },
    ]);
    const rows = [];
    for await (const parsed of parseCsv(chunks(text), multiclass)) {
      if ('item' in parsed) rows.push(normalizeRow(multiclass, parsed.item, `line ${parsed.line}`, newContext()));
    }
    expect(rows).toEqual([
      expect.objectContaining({ probabilities: [0.5, 0.3, 0.2], predictedLabel: 'a' }),
      { field: 'line 3.probabilities', message: 'is required for a multiclass deployment, one per class (a, b, c)' },
      { field: 'line 4.probabilities.a', message: 'is required' },
    ]);
  });

  it('reads a binary file by prediction column or by class columns', async () => {
    const byPrediction = await collect(parseCsv(chunks('age,prediction\n1,0.8\n'), binary));
    expect(byPrediction).toEqual([{ line: 2, item: { features: { age: '1' }, prediction: '0.8' } }]);
    const byClasses = await collect(parseCsv(chunks('yes,no,age\n0.8,0.2,1\n'), binary));
    expect(byClasses).toEqual([{ line: 2, item: { features: { age: '1' }, probabilities: { no: '0.2', yes: '0.8' } } }]);
    for (const parsed of [...byPrediction, ...byClasses]) {
      if (!('item' in parsed)) throw new Error('expected an item');
      expect(normalizeRow(binary, parsed.item, 'line 2', newContext())).toMatchObject({
        prediction: 0.8,
        probabilities: [parsed === byPrediction[0] ? 1 - 0.8 : 0.2, 0.8],
        predictedLabel: 'yes',
      });
    }
  });

  it('keeps a column named __proto__ as a plain feature key', async () => {
    const [parsed] = await collect(parseCsv(chunks('__proto__,prediction\n5,1\n'), regression));
    if (!parsed || !('item' in parsed)) throw new Error('expected an item');
    const features = (parsed.item as { features: object }).features;
    expect(Object.getPrototypeOf(features)).toBe(Object.prototype);
    expect(Object.entries(features)).toEqual([['__proto__', '5']]);
  });

  it('lets a declared feature named like a reserved column win', async () => {
    const shape: TargetShape = { ...regression, features: [feature('timestamp', 'NUMERIC')] };
    expect(await collect(parseCsv(chunks('timestamp,prediction\n5,1\n'), shape))).toEqual([
      { line: 2, item: { features: { timestamp: '5' }, prediction: '1' } },
    ]);
  });

  it('refuses a row with a different number of cells and goes on', async () => {
    const text = 'age,prediction\n1,2\n1,2,3\n4\n\n5,6\n7,8,\n';
    expect(await collect(parseCsv(chunks(text), regression))).toEqual([
      { line: 2, item: { features: { age: '1' }, prediction: '2' } },
      { line: 3, error: 'has 3 cells, but the header has 2 columns' },
      { line: 4, error: 'has 1 cells, but the header has 2 columns' },
      { line: 6, item: { features: { age: '5' }, prediction: '6' } },
      { line: 7, error: 'has 3 cells, but the header has 2 columns' },
    ]);
  });

  it('refuses a bad header on line 1 and reads nothing more', async () => {
    const cases: [string, TargetShape, string][] = [
      ['age,prediction,age\n1,2,3\n', regression, 'column "age" appears more than once in the header'],
      ['age, prediction ,prediction\n', regression, 'column "prediction" appears more than once in the header'],
      ['age,,prediction\n1,2,3\n', regression, 'column 2 of the header is empty'],
      ['""\n1\n', regression, 'the header row is empty'],
      ['age,city\n1,x\n', regression, 'the header has no "prediction" column'],
      ['age,a,b\n1,0.5,0.5\n', multiclass, 'the header needs one probability column per class; missing: "c"'],
      ['age,yes\n1,0.5\n', binary, 'the header needs one probability column per class; missing: "no"'],
      [
        'age\n1\n',
        binary,
        'the header needs a "prediction" column (the probability of "yes") or one probability column per class ("no", "yes")',
      ],
      ['age,"pre\u0000d"\n', regression, 'column 2 of the header must not contain the NUL character (\\u0000)'],
      ['', regression, 'the CSV has no header row'],
      ['\n\n', regression, 'the CSV has no header row'],
    ];
    for (const [text, shape, error] of cases) {
      expect(await collect(parseCsv(chunks(text), shape)), text).toEqual([{ line: 1, error }]);
    }
  });

  it('reads the last row without a final newline and handles a trailing empty cell', async () => {
    expect(await collect(parseCsv(chunks('age,city,prediction\n1,,2\n3,x,'), regression))).toEqual([
      { line: 2, item: { features: { age: '1', city: null }, prediction: '2' } },
      { line: 3, item: { features: { age: '3', city: 'x' }, prediction: null } },
    ]);
  });

  it('reports malformed quoting on the row it starts on', async () => {
    expect(await collect(parseCsv(chunks('city,prediction\n"Paris"x,1\nRome,2\n"never closed,3\n'), regression))).toEqual([
      { line: 2, error: 'has a character after the closing quote of cell 1' },
      { line: 3, item: { features: { city: 'Rome' }, prediction: '2' } },
      { line: 4, error: 'has a quoted cell that is never closed (cell 1)' },
    ]);
    // A quote inside an unquoted cell is kept as it is.
    expect(await collect(parseCsv(chunks('city,prediction\nab"c,1\n'), regression))).toEqual([
      { line: 2, item: { features: { city: 'ab"c' }, prediction: '1' } },
    ]);
  });

  it('decodes multi-byte characters split across chunks and reports invalid UTF-8', async () => {
    const text = 'city,prediction\n"Zürich 🚀",1\nÅre,2\n';
    const expected = [
      { line: 2, item: { features: { city: 'Zürich 🚀' }, prediction: '1' } },
      { line: 3, item: { features: { city: 'Åre' }, prediction: '2' } },
    ];
    expect(await collect(parseCsv(byteByByte(text), regression))).toEqual(expected);
    const bad = Buffer.concat([Buffer.from('city,prediction\nab'), Buffer.from([0xc3]), Buffer.from(',1\nx,2\n')]);
    expect(await collect(parseCsv(chunks(bad), regression))).toEqual([
      { line: 2, error: 'cell 1 is not valid UTF-8' },
      { line: 3, item: { features: { city: 'x' }, prediction: '2' } },
    ]);
  });

  it('refuses a record longer than maxLineBytes without holding it, and goes on', async () => {
    const chunkSize = 64 * 1024;
    let produced = 0;
    async function* input() {
      yield 'city,prediction\n"';
      for (let i = 0; i < 32; i++) {
        produced++;
        yield `${'x'.repeat(chunkSize - 1)}\n`; // quoted newlines: one record over many lines
      }
      yield '",1\nRome,2\n';
    }
    const seen: { item: ParsedItem; produced: number }[] = [];
    for await (const item of parseCsv(input(), regression)) seen.push({ item, produced });
    expect(seen.map((s) => s.item)).toEqual([
      { line: 2, error: 'is longer than 1048576 bytes' },
      { line: 35, item: { features: { city: 'Rome' }, prediction: '2' } },
    ]);
    expect(seen[0]!.produced).toBe(16);
    expect(
      await collect(parseCsv(chunks('city,prediction\nabcdefghijklmnop,1\nabcdefghijklmn,1\r\n'), regression, { maxLineBytes: 16 })),
    ).toEqual([
      { line: 2, error: 'is longer than 16 bytes' },
      { line: 3, item: { features: { city: 'abcdefghijklmn' }, prediction: '1' } },
    ]);
  });
});
