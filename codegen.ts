import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed operations for every document in test/operations (what a frontend team would generate).
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', ID: 'string' },
        emitLegacyCommonJSImports: false,
      },
    },
  },
  hooks: {},
};

export default config;
