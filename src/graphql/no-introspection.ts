import { GraphQLError, getNamedType, isIntrospectionType, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Introspection switched off (BATCHLENS_INTROSPECTION=off, or BATCHLENS_MODE=production): a field
 * of an introspection type (`__schema`, `__type`) makes the document invalid, as graphql-js's
 * NoSchemaIntrospectionCustomRule does, with a code clients can tell apart. `__typename` is a
 * String and keeps working. A validation rule, so it holds for every transport (yoga's validate
 * runs for HTTP, SSE and graphql-ws alike).
 */
export const INTROSPECTION_DISABLED = 'INTROSPECTION_DISABLED';

const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    const type = getNamedType(context.getType());
    if (type && isIntrospectionType(type)) {
      context.reportError(
        new GraphQLError(
          `Introspection is switched off on this server (BATCHLENS_INTROSPECTION=off, or BATCHLENS_MODE=production): the field "${node.name.value}" cannot be queried.`,
          { nodes: node, extensions: { code: INTROSPECTION_DISABLED } },
        ),
      );
      return false; // one error for the field, none for each field below it
    }
    return undefined;
  },
});

export function disableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(noIntrospection);
    },
  };
}
