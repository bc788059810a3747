// What a server logged (pino's JSON lines), captured through the log destination startApp takes,
// and /metrics answers read into numbers.

export type LogLine = Record<string, unknown> & { level: string; msg: string; time: string };

export class LogCapture {
  /** Every byte written, as written (for "never contains" checks). */
  text = '';
  /** A pino destination: anything with write(). */
  readonly destination = {
    write: (chunk: string): void => {
      this.text += chunk;
    },
  };

  /** Every line, parsed; a line that is not JSON fails the test here. */
  lines(): LogLine[] {
    return this.text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** The request lines (one per HTTP request) whose fields match. */
  requests(match: Record<string, unknown> = {}): LogLine[] {
    return this.lines().filter((line) => line.msg === 'request' && Object.entries(match).every(([key, value]) => line[key] === value));
  }
}

/** Lines of a process's stdout that are JSON log lines (the bootstrap token printout is not). */
export function jsonLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** One sample of a Prometheus text exposition: its value, or 0 when the series is not there (yet). */
export function sample(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) {
      total += Number(match[3]);
      found = true;
    }
  }
  return found ? total : 0;
}
