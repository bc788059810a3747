import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import {
  type DocumentNode,
  type ExecutionArgs,
  GraphQLError,
  Kind,
  type ValidationContext,
  validate,
  valueFromASTUntyped,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

// graphql-armor's cost limit multiplies a connection's cost by its `first` / `last` only when the
// page size is a literal; `batches(first: $n)` counts as one item at validation time, where the
// variables are unknown (and yoga caches validation per document). So before execution, an
// operation that takes a page size from a variable is costed again with the variables' values
// written in as literals — the same rule and options, the same refusal.

const PAGE_SIZE_ARGUMENTS = new Set(['first', 'last']);

/** Documents that take a page size from a variable (the check is skipped for all others). */
const usesPageSizeVariable = new WeakMap<DocumentNode, boolean>();

function takesPageSizeFromVariable(document: DocumentNode): boolean {
  let found = usesPageSizeVariable.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      Argument(node) {
        if (PAGE_SIZE_ARGUMENTS.has(node.name.value) && node.value.kind === Kind.VARIABLE) found = true;
        return false;
      },
    });
    usesPageSizeVariable.set(document, found);
  }
  return found;
}

/** The document with every `first: $x` / `last: $x` replaced by the value of $x (or its default). */
function withPageSizesWritten(document: DocumentNode, variables: Record<string, unknown> | null | undefined): DocumentNode {
  const defaults = new Map<string, unknown>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      if (variable.defaultValue) defaults.set(variable.variable.name.value, valueFromASTUntyped(variable.defaultValue));
    }
  }
  return visit(document, {
    Argument(node) {
      if (!PAGE_SIZE_ARGUMENTS.has(node.name.value) || node.value.kind !== Kind.VARIABLE) return undefined;
      const name = node.value.name.value;
      const value = variables && name in variables ? variables[name] : defaults.get(name);
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) return undefined;
      return { ...node, value: { kind: Kind.INT, value: String(value) } };
    },
  });
}

/** The costs of a document's operations in document order, when its page sizes are all literals. */
const literalCosts = new WeakMap<DocumentNode, number[]>();

/**
 * What the operation about to run costs by graphql-armor's formula — the cost BATCHLENS_MAX_QUERY_COST
 * limits, page sizes from variables included — for the rate limits, which weigh an operation by it.
 * The cost rule runs once per document (the parsed documents are cached) unless a page size comes
 * from a variable.
 */
export function operationCost(args: ExecutionArgs, options: { flattenFragments: boolean }): number {
  const variablePages = takesPageSizeFromVariable(args.document);
  let costs = variablePages ? undefined : literalCosts.get(args.document);
  if (!costs) {
    const found: number[] = [];
    const rule = costLimitRule({
      maxCost: Number.MAX_SAFE_INTEGER,
      flattenFragments: options.flattenFragments,
      propagateOnRejection: false,
      // Called once per operation definition, in document order.
      onAccept: [(_context, { n }) => found.push(n)],
    });
    validate(args.schema, variablePages ? withPageSizesWritten(args.document, args.variableValues) : args.document, [rule]);
    costs = found;
    if (!variablePages) literalCosts.set(args.document, costs);
  }
  const operations = args.document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const index = args.operationName ? operations.findIndex((operation) => operation.name?.value === args.operationName) : 0;
  return Math.max(1, Math.ceil(costs[Math.max(index, 0)] ?? 1));
}

export interface PageSizeCostOptions {
  maxCost: number;
  flattenFragments: boolean;
}

export function costPageSizeVariables(options: PageSizeCostOptions): Plugin {
  const check = (args: ExecutionArgs): readonly GraphQLError[] => {
    if (!takesPageSizeFromVariable(args.document)) return [];
    const rule = costLimitRule({
      maxCost: options.maxCost,
      flattenFragments: options.flattenFragments,
      exposeLimits: true,
      propagateOnRejection: false,
      onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
    });
    // Refused like the validation rule refuses literal page sizes: HTTP 400, no data.
    return validate(args.schema, withPageSizesWritten(args.document, args.variableValues), [rule]).map(
      (error) =>
        new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } }),
    );
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length) setResultAndStopExecution({ errors });
    },
  };
}
