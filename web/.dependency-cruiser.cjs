// Import rules of the dashboard (web/src; see ARCHITECTURE.md, "The dashboard"). Checked in
// .ci/run with the server's rules: `npm run lint:imports`. Bottom to top:
//   generated (codegen) → api (HTTP + graphql-ws client, session, hooks) → app (router, format, ui, tab props)
//   → shared views (charts, selection) → features (auth, inventory, batches, analytics, exports, jobs, settings)
//   → deployment (the tabbed page) → App.tsx, main.tsx.
const FEATURES = 'auth|inventory|batches|analytics|exports|jobs|settings';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'web-is-a-client',
      comment: 'The page talks to the server over HTTP only: it imports nothing from src/.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/' },
    },
    {
      name: 'api-stands-alone',
      severity: 'error',
      from: { path: '^web/src/(api|generated)/' },
      to: { path: '^web/src/', pathNot: '^web/src/(api|generated)/' },
    },
    {
      name: 'app-kit-below-views',
      severity: 'error',
      from: { path: '^web/src/app/' },
      to: { path: '^web/src/', pathNot: '^web/src/(api|generated|app)/' },
    },
    {
      name: 'shared-views-below-features',
      severity: 'error',
      from: { path: '^web/src/(charts|selection)/' },
      to: { path: `^web/src/(${FEATURES}|deployment)/|^web/src/App` },
    },
    {
      name: 'features-do-not-import-each-other',
      comment: 'A feature folder uses the kit and the shared views, never another feature.',
      severity: 'error',
      from: { path: `^web/src/(${FEATURES})/` },
      to: { path: `^web/src/(deployment)/|^web/src/App` },
    },
    ...FEATURES.split('|').map((feature) => ({
      name: `feature-${feature}-alone`,
      severity: 'error',
      from: { path: `^web/src/${feature}/` },
      to: { path: `^web/src/(${FEATURES})/`, pathNot: `^web/src/${feature}/` },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
    exclude: { path: '^(node_modules|web/dist)' },
  },
};
