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
