#!/usr/bin/env node
// The `batchlens` command (`npx batchlens predict …` in this repository after `npm install`):
// loads the TypeScript sources through tsx, then runs src/cli/main.ts. See `batchlens --help`.
import { register } from 'tsx/esm/api';

register();
const { runProcess } = await import('../src/cli/main.ts');
await runProcess();
