import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

// Structured logs: one JSON object a line (pino), on stdout unless a destination is given. Every
// component logs through a child of the app's logger (`component: 'http'`, 'jobs', …); requests
// add their id. Secrets are never passed to a logger on purpose; the redaction and the error
// serializer below are the second line (test/observability/secrets.test.ts is the proof).

export type { DestinationStream, Logger, LogLevel };

/**
 * Fields that must never reach a log line, at the top level of a line's object. (pino's wildcard
 * paths, `*.authorization`, cost ~18 µs a line — most of a request line's cost — so none is used:
 * nothing logs headers or parameters, and the error serializer below strips what errors carry.)
 */
const REDACTED_PATHS = ['authorization', 'Authorization', 'token', 'secret', 'password', 'headers', 'connectionParams'];

/**
 * An Error as a log field, without what may carry request data: drizzle's "Failed query" message
 * lists the statement's parameters (a backend's secret headers, say), and postgres.js errors carry
 * `parameters` / `args`. The statement text stays (it names no value), the values go.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const key of ['params', 'parameters', 'args', 'query', 'headers', 'options', 'request', 'response']) delete serialized[key];
  for (const key of ['message', 'stack'] as const) {
    const text = serialized[key];
    if (typeof text === 'string') serialized[key] = withoutParams(text);
  }
  if (error.cause !== undefined) serialized.cause = serializeError(error.cause);
  return serialized;
}

/** "Failed query: …\nparams: a,b" → "Failed query: …\nparams: [not logged]". */
function withoutParams(text: string): string {
  return text.includes('\nparams: ') ? text.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, '\nparams: [not logged]') : text;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where the lines go (a stream with write()); stdout when absent. */
  destination?: DestinationStream | undefined;
}

export function createLogger({ level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError, error: serializeError },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    // Asynchronous: a request never waits for its log line's write (pino flushes what is left at exit).
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing (libraries' defaults, tools that start the app quietly). */
export const silentLogger: Logger = pino({ level: 'silent' });
