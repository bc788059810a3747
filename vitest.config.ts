import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // One copy of graphql: Node (and so Pothos, yoga) load its CommonJS build; without this, Vite
    // would hand test files the .mjs build and graphql refuses to mix the two.
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Each file gets its own database (from a migrated template) and its own server.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
