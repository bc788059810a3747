// Import rules of batchlens (see ARCHITECTURE.md). Checked in .ci/run: `npm run lint:imports`.
// Layers, bottom to top; a file may import only from its own layer or lower ones:
//   core (errors, ids, validation, pagination, config, formats) → observability → db → events, limits → context →
//   rest kit, graphql kit → modules (in the order below) → schema.ts → http → app/main.
// Beside them, src/cli/ (the `batchlens` command) talks to a server over its REST API only.
// Modules, lowest first: organizations, deployments, batches, rows, baselines, predictions,
// actuals, metrics, custom-metrics, exports, scoring, jobs, live. A module imports only modules before it.
const MODULES = [
  'organizations',
  'deployments',
  'batches',
  'rows',
  'baselines',
  'predictions',
  'actuals',
  'metrics',
  'custom-metrics',
  'exports',
  'scoring',
  'jobs',
  'live',
];

const moduleOrder = MODULES.map((name, index) => {
  const higher = MODULES.slice(index + 1);
  return higher.length === 0
    ? null
    : {
        name: `module-order-${name}`,
        comment: `${name} may import only modules before it: ${MODULES.slice(0, index).join(', ') || '(none)'}`,
        severity: 'error',
        from: { path: `^src/modules/${name}/` },
        to: { path: `^src/modules/(${higher.join('|')})/` },
      };
}).filter(Boolean);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circles, not even through types.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      comment: 'errors, ids, validation, pagination, config stand on nothing of ours but each other.',
      severity: 'error',
      from: { path: '^src/(errors|ids|validation|pagination|config)\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(errors|ids|validation|pagination|config)\\.ts$' },
    },
    {
      name: 'observability-imports-only-core',
      comment: 'observability/ (request scope, logs, metrics) is used by every layer above it and stands on core only.',
      severity: 'error',
      from: { path: '^src/observability/' },
      to: { path: '^src/', pathNot: '^src/(observability/|(errors|ids|validation|pagination|config)\\.ts$)' },
    },
    {
      name: 'db-imports-no-feature',
      comment: 'The database layer knows no feature, no transport and no GraphQL.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/(modules|events|http|rest|graphql|formats)/' },
    },
    {
      name: 'limits-import-only-db-and-below',
      comment: 'limits/ (rate limits) counts in the database or Redis; it knows no feature, transport or GraphQL.',
      severity: 'error',
      from: { path: '^src/limits/' },
      to: { path: '^src/(modules|events|http|rest|graphql|formats)/|^src/(context|schema|app|main)\\.ts$' },
    },
    {
      name: 'infrastructure-imports-no-feature',
      comment: 'events/, formats/ and rest/ serve the modules; they never import one (types of the request context aside).',
      severity: 'error',
      from: { path: '^src/(events|formats)/' },
      to: { path: '^src/(modules|http|rest|graphql)/' },
    },
    {
      name: 'rest-kit-imports-no-transport',
      comment: 'The REST kit is what route files use; it knows neither the HTTP server nor GraphQL.',
      severity: 'error',
      from: { path: '^src/rest/' },
      to: { path: '^src/(http|graphql)/' },
    },
    {
      name: 'nothing-imports-http',
      comment: 'http/ is the top: only app.ts (and tests, benchmarks) start the server.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(http/|app\\.ts$|main\\.ts$)' },
      to: { path: '^src/http/' },
    },
    {
      name: 'nothing-imports-app',
      comment: 'app.ts and main.ts compose everything; nothing inside src imports them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(app|main)\\.ts$' },
    },
    {
      name: 'services-know-no-graphql',
      comment: 'A rule lives in a service used by GraphQL and REST alike: services never import GraphQL or schema files.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/(schema|[a-z-]+-schema|loaders)\\.ts$' },
      to: { path: '(^src/graphql/|^src/modules/[^/]+/(schema|[a-z-]+-schema|loaders)\\.ts$)' },
    },
    {
      name: 'services-know-no-rest',
      comment: 'Services never import REST route files (rest.ts, *-rest.ts) or the REST kit.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/(rest|[a-z-]+-rest)\\.ts$' },
      to: { path: '(^src/rest/|^src/modules/[^/]+/(rest|[a-z-]+-rest)\\.ts$)' },
    },
    {
      name: 'graphql-kit-imports-no-module',
      comment:
        'graphql/ is the Pothos builder, context, error types and loader kit: it defines no feature and imports none (src/schema.ts assembles the schema).',
      severity: 'error',
      from: { path: '^src/(graphql/|context\\.ts$)' },
      to: { path: '^src/(modules|http|rest)/|^src/schema\\.ts$' },
    },
    {
      name: 'only-transports-import-the-schema',
      comment: 'src/schema.ts imports every module schema; only the HTTP layer (and scripts) import it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(http/|schema\\.ts$)' },
      to: { path: '^src/schema\\.ts$' },
    },
    {
      name: 'cli-imports-no-server',
      comment: 'The command line talks to the REST API only: it imports nothing from the server, not even its types.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/', pathNot: '^src/cli/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'The server never imports the command line.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    ...moduleOrder,
    {
      name: 'no-orphans',
      comment: 'Every source file is used by something (entry points, scripts and declarations aside).',
      severity: 'error',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '^src/main\\.ts$', '^src/cli/main\\.ts$'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    exclude: { path: '^(node_modules|test/generated)' },
  },
};
