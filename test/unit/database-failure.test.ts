import { describe, expect, it } from 'vitest';
import { databaseFailure } from '../../src/db/errors.js';

// The one mapping of database failures to answers (REST and GraphQL both use it). The crash tests
// (test/crash/) meet these failures for real; this pins every SQLSTATE class it names.

const postgresError = (code: string) => Object.assign(new Error(`SQLSTATE ${code}`), { code, severity: 'FATAL' });
/** As drizzle throws it: "Failed query: …" with the driver's error as its cause. */
const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: select 1'), { cause });

describe('databaseFailure', () => {
  it.each([
    ['57P01', 'admin shutdown'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now (starting up, in recovery)'],
    ['08006', 'connection failure'],
    ['08001', 'cannot establish a connection'],
    ['53300', 'too many connections'],
    ['53200', 'out of memory'],
    ['ECONNREFUSED', 'nothing listening'],
    ['CONNECTION_CLOSED', 'the connection was lost'],
    ['CONNECT_TIMEOUT', 'connecting timed out'],
  ])('%s (%s) is 503 with Retry-After', (code) => {
    for (const error of [postgresError(code), wrapped(postgresError(code)), { originalError: wrapped(postgresError(code)) }]) {
      expect(databaseFailure(error)).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE', retryAfter: 2 });
    }
  });

  it('53100 (disk full) is 507 INSUFFICIENT_STORAGE, saying the disk is full', () => {
    const failure = databaseFailure(wrapped(postgresError('53100')));
    expect(failure).toMatchObject({ status: 507, code: 'INSUFFICIENT_STORAGE' });
    expect(failure?.message).toMatch(/disk is full/);
  });

  it('anything else is not a database failure (a bug: 500)', () => {
    for (const error of [
      new Error('boom'),
      postgresError('23505'),
      postgresError('42P01'),
      wrapped(postgresError('22P02')),
      null,
      'text',
    ]) {
      expect(databaseFailure(error)).toBeUndefined();
    }
  });
});
