import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import { GraphQLError, Kind, valueFromASTUntyped } from 'graphql';
import { idType } from '../ids.js';
import { parseTimestamp } from '../validation.js';
import type { GraphQLContext } from './context.js';

interface BatchlensTypes {
  Context: GraphQLContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    ActualValue: { Input: number | string; Output: number | string };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}

/** The resolved Pothos type map, for helpers that take refs of this builder. */
export type SchemaTypes = PothosSchemaTypes.ExtendDefaultTypes<BatchlensTypes>;

export const builder = new SchemaBuilder<BatchlensTypes>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Our ids already carry their type (mb_…, dep_…): the node id IS the id used by REST and
    // headers, so global ids are the plain ids.
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => ({ typename: idTypeName(globalID), id: globalID }),
    nodesQueryOptions: false,
  },
});

function idTypeName(id: string): string {
  return idType(id) ?? 'Unknown';
}

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' && value.includes('T') ? parseTimestamp(value) : null;
  if (date) return date;
  throw new GraphQLError(`DateTime must be an ISO-8601 date-time string such as 2026-01-31T12:00:00Z, got ${JSON.stringify(value)}`);
}

builder.scalarType('DateTime', {
  description: 'An instant as an ISO-8601 string in UTC, e.g. `2026-01-31T12:00:00.000Z`.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast) => valueFromASTUntyped(ast),
});

builder.scalarType('ActualValue', {
  description: 'An actual outcome: a number (regression) or a class name (classification; numbers are read as their text).',
  serialize: (value) => value,
  parseValue: (value) => {
    if (typeof value === 'number' || typeof value === 'string') return value;
    throw new GraphQLError('ActualValue must be a number or a string');
  },
  parseLiteral: (ast) => {
    if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return Number(ast.value);
    if (ast.kind === Kind.STRING) return ast.value;
    throw new GraphQLError('ActualValue must be a number or a string');
  },
});

builder.queryType({});
builder.mutationType({});
