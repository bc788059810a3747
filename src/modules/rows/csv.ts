/**
 * Prediction rows in CSV: the header names features, `prediction` or one probability column per
 * class, and optional `associationId` / `timestamp`; each record becomes the item normalizeRow takes.
 * (NDJSON items need no translation: see formats/ndjson.ts.)
 */

import { bytesOf, DEFAULT_MAX_LINE_BYTES, type ParsedItem, type ParseOptions } from '../../formats/bytes.js';
import { CsvReader, type CsvRecord } from '../../formats/csv.js';
import { UNSTORABLE_NUL } from '../../validation.js';
import type { TargetShape } from './shape.js';

interface CsvHeader {
  columns: number;
  featureColumns: number[];
  featureNames: string[];
  /** Every feature column as null: each row's features start as a copy (one shared layout, and a column named __proto__ stays a plain key). */
  featureTemplate: Record<string, null>;
  predictionColumn: number;
  classColumns: number[];
  classNames: string[];
  associationIdColumn: number;
  timestampColumn: number;
}

const quote = (name: string) => JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);

function listOf(names: string[]): string {
  const shown = names.slice(0, 10).map(quote).join(', ');
  return names.length > 10 ? `${shown}, … (${names.length} in all)` : shown;
}

const RESERVED = new Set(['prediction', 'associationId', 'timestamp']);

function readHeader(cells: (string | null)[], shape: TargetShape): CsvHeader | string {
  const features = new Set(shape.features.map((f) => f.name));
  const classes = shape.targetType === 'REGRESSION' ? [] : (shape.classNames ?? []);
  const classSet = new Set(classes);
  const header: CsvHeader = {
    columns: cells.length,
    featureColumns: [],
    featureNames: [],
    featureTemplate: {},
    predictionColumn: -1,
    classColumns: [],
    classNames: [],
    associationIdColumn: -1,
    timestampColumn: -1,
  };
  const seen = new Set<string>();
  for (let column = 0; column < cells.length; column++) {
    const name = (cells[column] ?? '').trim();
    if (name === '') return cells.length === 1 ? 'the header row is empty' : `column ${column + 1} of the header is empty`;
    if (name.includes('\u0000')) return `column ${column + 1} of the header ${UNSTORABLE_NUL}`;
    if (seen.has(name)) return `column ${quote(name)} appears more than once in the header`;
    seen.add(name);
    // A declared feature wins over the reserved names, in case a feature is called e.g. "timestamp";
    // an undeclared column is passed on as a feature, for normalizeRow to list as unknown.
    if (features.has(name) || !(classSet.has(name) || RESERVED.has(name))) {
      header.featureColumns.push(column);
      header.featureNames.push(name);
    } else if (classSet.has(name)) {
      header.classColumns.push(column);
      header.classNames.push(name);
    } else if (name === 'prediction') {
      header.predictionColumn = column;
    } else if (name === 'associationId') {
      header.associationIdColumn = column;
    } else {
      header.timestampColumn = column;
    }
  }
  header.featureTemplate = Object.fromEntries(header.featureNames.map((name) => [name, null]));
  const missing = classes.filter((name) => !seen.has(name));
  if (shape.targetType === 'REGRESSION' && header.predictionColumn === -1) return 'the header has no "prediction" column';
  if (shape.targetType === 'MULTICLASS' && missing.length) {
    return `the header needs one probability column per class; missing: ${listOf(missing)}`;
  }
  if (shape.targetType === 'BINARY') {
    if (header.classColumns.length === 0 && header.predictionColumn === -1) {
      return `the header needs a "prediction" column (the probability of ${quote(shape.positiveClass ?? '')}) or one probability column per class (${listOf(classes)})`;
    }
    if (header.classColumns.length && missing.length) {
      return `the header needs one probability column per class; missing: ${listOf(missing)}`;
    }
  }
  return header;
}

function csvItem(header: CsvHeader, cells: (string | null)[]): Record<string, unknown> {
  const features: Record<string, string | null> = { ...header.featureTemplate };
  const { featureColumns, featureNames } = header;
  for (let j = 0; j < featureColumns.length; j++) {
    const value = cells[featureColumns[j]!];
    if (value != null) features[featureNames[j]!] = value;
  }
  const item: Record<string, unknown> = { features };
  if (header.predictionColumn !== -1) item.prediction = cells[header.predictionColumn] ?? null;
  if (header.classColumns.length) {
    let probabilities: Record<string, string | null> | null = null;
    for (let j = 0; j < header.classColumns.length; j++) {
      if (cells[header.classColumns[j]!] != null) {
        probabilities = {};
        for (let k = 0; k < header.classColumns.length; k++) probabilities[header.classNames[k]!] = cells[header.classColumns[k]!] ?? null;
        break;
      }
    }
    item.probabilities = probabilities; // every class cell empty → null, as if the column were absent
  }
  if (header.associationIdColumn !== -1) item.associationId = cells[header.associationIdColumn] ?? null;
  if (header.timestampColumn !== -1) item.timestamp = cells[header.timestampColumn] ?? null;
  return item;
}

/**
 * RFC 4180 CSV (quotes, escaped quotes, quoted newlines, CRLF, UTF-8 BOM). Header row: feature
 * names, then `prediction` (regression, or binary positive-class probability) or one column per
 * class name (classification), optional `associationId` and `timestamp` columns, in any order.
 * Each data row becomes the JSON item shape normalizeRow takes, cells as strings (empty → null).
 * `line` is the physical line a record starts on. A row with a different number of cells than the
 * header → error. Header problems → one error on the header's line, and nothing else.
 */
export async function* parseCsv(
  input: AsyncIterable<Buffer | string>,
  shape: TargetShape,
  options: ParseOptions = {},
): AsyncGenerator<ParsedItem> {
  const reader = new CsvReader(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const rows = new CsvRows(shape);
  for await (const chunk of bytesOf(input)) {
    reader.feed(chunk);
    for (let record = reader.next(); record; record = reader.next()) {
      const parsed = rows.take(record);
      if (parsed) yield parsed;
      if (rows.done) return;
    }
  }
  const last = reader.finish();
  const parsed = last && rows.take(last);
  if (parsed) yield parsed;
  if (!rows.done && !rows.header) yield { line: 1, error: 'the CSV has no header row' };
}

/** Turns records into items once the header is read. */
class CsvRows {
  header: CsvHeader | null = null;
  /** The header was refused (or unreadable): nothing more is read. */
  done = false;

  constructor(private readonly shape: TargetShape) {}

  take(record: CsvRecord): ParsedItem | undefined {
    if ('error' in record) {
      if (!this.header) this.done = true;
      return record;
    }
    if (!this.header) {
      const parsed = readHeader(record.cells, this.shape);
      if (typeof parsed === 'string') {
        this.done = true;
        return { line: record.line, error: parsed };
      }
      this.header = parsed;
      return undefined;
    }
    if (record.cells.length !== this.header.columns) {
      return { line: record.line, error: `has ${record.cells.length} cells, but the header has ${this.header.columns} columns` };
    }
    return { line: record.line, item: csvItem(this.header, record.cells) };
  }
}
