import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idPrefixes } from '../../src/ids.js';
import { createBatch, createBinaryDeployment, createDeployment, createOrganization } from '../helpers/fixtures.js';
import {
  edgeNumber,
  FuzzTally,
  fuzzAsync,
  hugeString,
  INT32_EDGES,
  jsonValue,
  nastyString,
  numberText,
  storedFigures,
} from '../helpers/fuzz.js';
import { requestGraphQL } from '../helpers/graphql.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Every query field with arguments and every mutation of the real schema (schema.graphql), sent
// over HTTP with generated variables: well-typed ones (nasty unicode, ints at the 32-bit edges,
// floats at the edges, huge lists, every enum value, ids of the caller, of another organization,
// missing and random) and ill-typed ones (a value anywhere replaced by one of another type). Never
// a 5xx or an internal error; every refusal names the variable, the field path or, in a typed
// result, the input field; a mutation that does not succeed stores nothing.
//
// The documents are written here from the schema, not typed operations: this is bad input on purpose.

const tally = new FuzzTally('graphql-inputs');
const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

let server: TestServer;
let token: string;
/** Ids of the caller's organization and of another one (a foreign id must behave like a missing one). */
const ownIds: string[] = [];
const foreignIds: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const org = await createOrganization(server, null);
  const other = await createOrganization(server, null);
  token = org.token;
  const deployment = (await createDeployment(server, token)).id;
  const binary = (await createBinaryDeployment(server, token)).id;
  const metric = await server.rest('POST', `/api/v2/deployments/${deployment}/customMetrics/`, {
    token,
    body: {
      name: 'fuzzed',
      units: 'u',
      type: 'sum',
      directionality: 'higherIsBetter',
      timeStep: 'hour',
      baselineValues: [],
      isModelSpecific: false,
    },
  });
  const batch = (await createBatch(server, deployment, 'one', token)).id;
  const binaryBatch = (await createBatch(server, binary, 'two', token)).id;
  ownIds.push(deployment, binary, batch, binaryBatch, (metric.json as { id: string }).id, org.organizationId, org.adminId);
  // Some data, so metrics, drift and accuracy over selections have something to compute.
  const row = (i: number, prediction: number) => ({
    features: { age: i % 7, city: ['a', 'b', 'c'][i % 3] },
    prediction,
    associationId: `r${i}`,
  });
  const ingest = async (d: string, b: string, prediction: (i: number) => number) => {
    const answer = await server.rest('POST', `/api/v2/deployments/${d}/predictionInputs/fromJSON/`, {
      token,
      body: { batchId: b, data: Array.from({ length: 30 }, (_, i) => row(i, prediction(i))) },
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);
  };
  // Values at the edges of what is accepted, too (±1e100, tiny ones): metrics must still be numbers.
  await ingest(deployment, batch, (i) => [1e100, -1e100, 5e-324, -0][i % 4]! + i * 1.5);
  await ingest(binary, binaryBatch, (i) => (i % 10) / 10);
  const actuals = await server.rest('POST', `/api/v2/deployments/${deployment}/actuals/fromJSON/`, {
    token,
    body: { data: Array.from({ length: 20 }, (_, i) => ({ associationId: `r${i}`, actualValue: i % 5 === 0 ? -1e100 : i })) },
  });
  expect(actuals.status, JSON.stringify(actuals.json)).toBe(202);
  const baseline = await server.rest('POST', `/api/v2/deployments/${deployment}/trainingBaseline/`, {
    token,
    rawBody: Array.from({ length: 30 }, (_, i) => JSON.stringify(row(i + 3, i))).join('\n'),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(baseline.status, JSON.stringify(baseline.json)).toBeLessThan(300);
  const theirs = (await createDeployment(server, other.token)).id;
  foreignIds.push(theirs, (await createBatch(server, theirs, 'theirs', other.token)).id, other.organizationId, other.adminId);
});
afterAll(async () => {
  console.log(tally.summary());
  await server?.stop();
});

const PREFIXES = ['org', 'usr', 'tok', 'dep', 'mb', 'job', 'jobdef', 'cm', 'exp'];
const idValue = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .constant(0)
      .map(() => ownIds)
      .chain((ids) => fc.constantFrom(...ids)),
  },
  {
    weight: 2,
    arbitrary: fc
      .constant(0)
      .map(() => foreignIds)
      .chain((ids) => fc.constantFrom(...ids)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...PREFIXES), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }))
      .map(([prefix, hex]) => `${prefix}_${hex}`),
  },
  { weight: 1, arbitrary: nastyString(30) },
);

const dateTimeValue = fc.oneof(
  fc
    .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom('0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2024-02-29T00:00:00+14:00', '1970-01-01T00:00:00-12:00'),
);

const stringValue = fc.oneof(
  { weight: 8, arbitrary: nastyString(20) },
  { weight: 1, arbitrary: hugeString(100_000) },
  { weight: 1, arbitrary: numberText },
);

function scalarValue(name: string): fc.Arbitrary<unknown> {
  switch (name) {
    case 'Int':
      return fc.oneof(
        fc.constantFrom(...INT32_EDGES.filter((n) => n >= -(2 ** 31) && n < 2 ** 31)),
        fc.integer({ min: -5, max: 200 }),
        fc.integer(),
      );
    case 'Float':
      return edgeNumber;
    case 'Boolean':
      return fc.boolean();
    case 'ID':
      return idValue;
    case 'DateTime':
      return dateTimeValue;
    case 'JSON':
      return jsonValue(3);
    case 'ActualValue':
      return fc.oneof(edgeNumber, nastyString());
    default:
      return stringValue;
  }
}

/** A well-typed value of a GraphQL input type (nested input objects stop at `depth`). */
function inputValue(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return inputValue(type.ofType as GraphQLInputType, depth);
  const inner = (): fc.Arbitrary<unknown> => {
    if (isListType(type)) {
      const item = inputValue(type.ofType as GraphQLInputType, depth + 1);
      return fc.oneof(
        { weight: 10, arbitrary: fc.array(item, { maxLength: 4 }) },
        {
          weight: 1,
          // Up to 11,000 copies of one item, at most about 2 MB of JSON in all.
          arbitrary: fc
            .tuple(item, fc.integer({ min: 1000, max: 11_000 }))
            .map(([one, n]) =>
              Array.from({ length: Math.min(n, Math.floor(2_000_000 / (JSON.stringify(one) ?? 'null').length)) }, () => one),
            ),
        },
      );
    }
    if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((v) => v.name));
    if (isScalarType(type)) return scalarValue(type.name);
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields());
      const required = fields.filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => f.name);
      if (depth > 4) return fc.constant(Object.fromEntries(required.map((name) => [name, null])));
      return fc.record(Object.fromEntries(fields.map((f) => [f.name, inputValue(f.type, depth + 1)])), { requiredKeys: required });
    }
    return fc.constant(null);
  };
  return isNonNullType(type) ? inner() : fc.oneof({ weight: 6, arbitrary: inner() }, { weight: 1, arbitrary: fc.constant(null) });
}

/** A value of the wrong type: any JSON, ints past 32 bits, fractions, lists for scalars, deep nesting. */
const wrongValue = fc.oneof(
  jsonValue(2),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, -0.5, 1e308, '', '1', true, [], {}, [[[]]], { __typename: 'x' }),
  fc.integer({ min: 100, max: 3000 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown),
);

/** Replaces the n-th node (pre-order) of a JSON value, or adds an unknown field to the n-th object. */
function corrupt(value: unknown, n: number, wrong: unknown, addField: boolean): unknown {
  let index = 0;
  let count = 0;
  const countNodes = (node: unknown): void => {
    count++;
    if (Array.isArray(node)) node.forEach(countNodes);
    else if (node && typeof node === 'object') Object.values(node).forEach(countNodes);
  };
  countNodes(value);
  const target = n % count;
  const walk = (node: unknown): unknown => {
    const here = index++;
    if (here === target && !addField) return wrong;
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') {
      const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
      if (here === target) copy.notAField = wrong;
      return copy;
    }
    return node;
  };
  return walk(value);
}

/** The selection of a field's result: __typename, and for a result union its error and the named fields of a ValidationError. */
function selectionOf(type: GraphQLOutputType): string {
  const named = getNamedType(type);
  if (isUnionType(named)) {
    const members = named.getTypes();
    const validation = members.some((m) => m.name === 'ValidationError') ? ' ... on ValidationError { fieldErrors { field message } }' : '';
    const error = members.some((m) => m.getInterfaces().some((i) => i.name === 'Error')) ? ' ... on Error { message }' : '';
    return `{ __typename${error}${validation} }`;
  }
  if (isObjectType(named) || isInterfaceType(named)) return `{ __typename${fieldsOf(named, 0)} }`;
  return '';
}

/** The fields of an object an argument-less query can select (so their values are serialized too), two levels deep. */
function fieldsOf(type: GraphQLNamedType, depth: number): string {
  if (!isObjectType(type) || depth > 1) return '';
  let out = '';
  for (const field of Object.values(type.getFields())) {
    if (field.args.some((a) => isNonNullType(a.type))) continue;
    const named = getNamedType(field.type);
    if (isScalarType(named) || isEnumType(named)) out += ` ${field.name}`;
    else if (isObjectType(named)) {
      const inner = fieldsOf(named, depth + 1);
      if (inner) out += ` ${field.name} { __typename${inner} }`;
    }
  }
  return out;
}

interface Step {
  field: GraphQLField<unknown, unknown>;
  /** Its arguments' variable names (prefixed by the step, so two steps' `batches` differ). */
  variables: string[];
}

interface Operation {
  kind: 'query' | 'mutation';
  /** The field under test, last of the steps from the root. */
  name: string;
  steps: Step[];
  document: string;
}

function operationOf(kind: 'query' | 'mutation', fields: GraphQLField<unknown, unknown>[]): Operation {
  const steps = fields.map((field, i) => ({
    field,
    variables: field.args.map((a) => (i === fields.length - 1 && i === 0 ? a.name : `s${i}_${a.name}`)),
  }));
  const declarations = steps.flatMap((step) => step.field.args.map((a, j) => `$${step.variables[j]}: ${a.type.toString()}`)).join(', ');
  let body = '';
  for (let i = steps.length - 1; i >= 0; i--) {
    const { field, variables } = steps[i]!;
    const args = field.args.length ? `(${field.args.map((a, j) => `${a.name}: $${variables[j]}`).join(', ')})` : '';
    body = `${i === 0 ? 'result: ' : ''}${field.name}${args} ${i === steps.length - 1 ? selectionOf(field.type) : `{ ${body} }`}`;
  }
  const last = steps[steps.length - 1]!.field;
  const owner = steps.length > 1 ? `${getNamedType(steps[steps.length - 2]!.field.type).name}.` : '';
  return { kind, name: `${owner}${last.name}`, steps, document: `${kind} Fuzz${declarations ? `(${declarations})` : ''} { ${body} }` };
}

/** Every field with arguments below the query root (Deployment.dataDrift, …), reached from a root field by the shortest path. */
function nestedOperations(): Operation[] {
  const found: Operation[] = [];
  const seen = new Set<string>();
  let frontier = Object.values(schema.getQueryType()!.getFields()).map((f) => [f]);
  for (let depth = 0; depth < 3 && frontier.length; depth++) {
    const next: GraphQLField<unknown, unknown>[][] = [];
    for (const path of frontier) {
      const type = getNamedType(path[path.length - 1]!.type);
      if (!isObjectType(type) || type.name === 'Query') continue;
      for (const field of Object.values(type.getFields())) {
        const key = `${type.name}.${field.name}`;
        if (field.args.length && !seen.has(key)) {
          seen.add(key);
          found.push(operationOf('query', [...path, field]));
        }
        next.push([...path, field]);
      }
    }
    frontier = next;
  }
  return found;
}

const OPERATIONS: Operation[] = [
  ...Object.values(schema.getQueryType()!.getFields())
    .filter((f) => f.args.length > 0)
    .map((f) => operationOf('query', [f])),
  ...nestedOperations(),
  ...Object.values(schema.getMutationType()!.getFields()).map((f) => operationOf('mutation', [f])),
];

/** The root field's id argument of a nested path: mostly one of the caller's ids of its type (so the nested field runs). */
function anchorValue(field: GraphQLField<unknown, unknown>): fc.Arbitrary<unknown> {
  const prefix = (idPrefixes as Record<string, string>)[field.name.charAt(0).toUpperCase() + field.name.slice(1)];
  const mine = fc.constant(0).chain(() => {
    const ids = ownIds.filter((id) => prefix && id.startsWith(`${prefix}_`));
    return ids.length ? fc.constantFrom(...ids) : idValue;
  });
  return fc.oneof({ weight: 8, arbitrary: mine }, { weight: 1, arbitrary: idValue });
}

function variablesOf(op: Operation): fc.Arbitrary<{ variables: Record<string, unknown>; wellTyped: boolean }> {
  const values: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  op.steps.forEach((step, i) => {
    step.field.args.forEach((a, j) => {
      const name = step.variables[j]!;
      values[name] = i === 0 && op.steps.length > 1 && a.name === 'id' ? anchorValue(step.field) : inputValue(a.type);
      if (isNonNullType(a.type)) required.push(name);
    });
  });
  const wellTyped = fc.record(values, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>;
  return fc.oneof(
    { weight: 3, arbitrary: wellTyped.map((variables) => ({ variables, wellTyped: true })) },
    {
      weight: 2,
      arbitrary: fc.tuple(wellTyped, fc.nat(), wrongValue, fc.boolean()).map(([variables, n, wrong, add]) => ({
        variables: corrupt(variables, n, wrong, add) as Record<string, unknown>,
        wellTyped: false,
      })),
    },
  );
}

const describeValue = (value: unknown) => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 600 ? `${text.slice(0, 600)}… (${text.length} characters)` : text;
};

let known: Record<string, unknown> | null = null;

describe('GraphQL inputs', () => {
  it(`covers every mutation and every query field with arguments (${OPERATIONS.length})`, () => {
    expect(OPERATIONS.filter((op) => op.kind === 'mutation').length).toBe(Object.keys(schema.getMutationType()!.getFields()).length);
    expect(OPERATIONS.map((op) => op.name)).toEqual(
      expect.arrayContaining(['Deployment.dataDrift', 'CustomMetric.summary', 'ServiceHealth.slowRequests']),
    );
    expect(OPERATIONS.length).toBeGreaterThan(30);
  });

  for (const op of OPERATIONS) {
    it(`${op.kind} ${op.name}: never an internal error, refusals named, nothing half-stored`, async () => {
      let executed = 0;
      await fuzzAsync(
        tally,
        `${op.kind} ${op.name}`,
        variablesOf(op),
        async ({ variables }) => {
          known ??= await storedFigures(server.sql);
          const before = known;
          const response = await requestGraphQL<
            { result?: { __typename?: string; fieldErrors?: { field: string; message: string }[] } | null },
            Record<string, unknown>
          >(server, op.document, variables, token);
          const context = `${op.document}\nvariables ${describeValue(variables)}\n→ ${response.status} ${describeValue({ data: response.data, errors: response.errors })}`;
          expect(response.status, context).toBeLessThan(500);
          for (const error of response.errors ?? []) {
            expect(error.extensions?.code, context).not.toBe('INTERNAL_SERVER_ERROR');
            expect(error.message, context).not.toMatch(/^Unexpected error/);
            // Names the variable ($input.rows.3 …) or the field it failed at.
            // (A whole document refused for its cost, or variables that are not an object, name the request's part.)
            const named =
              /\$\S|"variables"|variables, error limit|Query Cost limit|argument|field/i.test(error.message) ||
              ((error as { path?: unknown[] }).path?.length ?? 0) > 0;
            expect(named, `${JSON.stringify(error)} names no variable or field in ${context}`).toBe(true);
          }
          const result = response.data?.result;
          if (result?.__typename === 'ValidationError') {
            expect(result.fieldErrors?.length, context).toBeGreaterThan(0);
            for (const fieldError of result.fieldErrors ?? []) expect(fieldError.message, context).toMatch(/\S/);
          }
          // A request refused before execution (no data at all) ran no resolver: nothing to compare.
          if (!('data' in response)) return;
          executed++;
          known = await storedFigures(server.sql);
          const succeeded =
            op.kind === 'mutation' &&
            !response.errors?.length &&
            (result?.__typename?.endsWith('Success') || result?.__typename === 'ModelBackendCheck');
          if (!succeeded) expect(known, context).toEqual(before);
        },
        { numRuns: op.kind === 'mutation' ? 30 : 12 },
      );
      // The document is valid: some of the generated variables got past validation to the resolvers.
      expect(executed, op.document).toBeGreaterThan(0);
    });
  }
});
