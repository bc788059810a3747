import type { Deployment, JobSpec } from '../../db/tables.js';
import { csvCell } from '../../formats/csv.js';
import type { ScoredRow } from '../scoring/score.js';

// The output file of a job, in DataRobot's columns: passthrough columns first, then per class
// `<target>_<class>_PREDICTION` (includeProbabilities), `<target>_PREDICTION`, for a binary target
// `THRESHOLD` and `POSITIVE_CLASS`, and `prediction_status` (includePredictionStatus).
// columnNamesRemapping renames a column, or drops it when mapped to null.

interface Column {
  name: string;
  /** The cell of a row: its passthrough cells and its scored row (null: the row failed). */
  cell: (passthrough: (string | null)[], row: ScoredRow | null, error: string | null) => string;
}

/** The input columns passed through to the output, as indexes into the input's columns. */
export function passthroughIndexes(spec: JobSpec, inputColumns: string[]): number[] {
  if (spec.passthroughColumnsSet === 'all') return inputColumns.map((_, i) => i);
  return (spec.passthroughColumns ?? []).map((name) => inputColumns.indexOf(name)).filter((i) => i >= 0);
}

export class OutputFormat {
  private readonly columns: Column[];

  constructor(deployment: Deployment, spec: JobSpec, inputColumns: string[]) {
    const target = deployment.targetName;
    // A chunk stores the passthrough cells alone, in passthroughIndexes order.
    const columns: Column[] = passthroughIndexes(spec, inputColumns).map((index, k) => ({
      name: inputColumns[index]!,
      cell: (passthrough) => csvCell(passthrough[k]),
    }));
    const classes = deployment.targetType === 'REGRESSION' ? [] : (deployment.classNames ?? []);
    if (spec.includeProbabilities) {
      classes.forEach((name, k) => {
        columns.push({ name: `${target}_${name}_PREDICTION`, cell: (_, row) => (row?.probabilities ? String(row.probabilities[k]) : '') });
      });
    }
    columns.push({ name: `${target}_PREDICTION`, cell: (_, row) => (row ? csvCell(row.prediction) : '') });
    if (deployment.targetType === 'BINARY') {
      columns.push({ name: 'THRESHOLD', cell: () => String(deployment.predictionThreshold) });
      columns.push({ name: 'POSITIVE_CLASS', cell: () => csvCell(deployment.positiveClass) });
    }
    if (spec.includePredictionStatus) columns.push({ name: 'prediction_status', cell: (_, row, error) => csvCell(row ? 'OK' : error) });
    const remap = spec.columnNamesRemapping;
    this.columns = columns
      .filter((c) => !(Object.hasOwn(remap, c.name) && remap[c.name] === null))
      .map((c) => (Object.hasOwn(remap, c.name) ? { ...c, name: remap[c.name]! } : c));
  }

  header(): string {
    return `${this.columns.map((c) => csvCell(c.name)).join(',')}\n`;
  }

  /** Output lines of a chunk: scored rows, or (a chunk that failed with abortOnError off) empty predictions and the error. */
  lines(passthrough: (string | null)[][], rows: ScoredRow[] | null, error: string | null = null): string {
    let text = '';
    for (let r = 0; r < passthrough.length; r++) {
      const row = rows ? rows[r]! : null;
      const input = passthrough[r]!;
      let line = '';
      for (let c = 0; c < this.columns.length; c++) line += (c ? ',' : '') + this.columns[c]!.cell(input, row, error);
      text += `${line}\n`;
    }
    return text;
  }
}
