import type { CodegenConfig } from '@graphql-codegen/cli';

const shared = {
  useTypeImports: true,
  enumsAsTypes: true,
  scalars: { DateTime: 'string', ID: 'string' },
  emitLegacyCommonJSImports: false,
};

// Typed operations from schema.graphql, as a frontend team generates them: the tests' operations
// (test/operations), the dashboard's (web/src/**/*.graphql) and the demo filler's (examples/demo). The dashboard's are plain strings
// (`documentMode: 'string'`), so the page needs no GraphQL parser in its bundle.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'test/generated/graphql.ts': {
      documents: ['test/operations/**/*.graphql'],
      plugins: ['typescript-operations', 'typed-document-node'],
      config: shared,
    },
    'web/src/generated/graphql.ts': {
      documents: ['web/src/**/*.graphql'],
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { ...shared, documentMode: 'string' },
    },
    // The demo filler (npm run demo) is a client like the page: plain strings, sent with fetch.
    'examples/demo/generated/graphql.ts': {
      documents: ['examples/demo/**/*.graphql'],
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { ...shared, documentMode: 'string' },
    },
  },
  hooks: {},
};

export default config;
