#!/usr/bin/env node
// Entry point of `npm create agent-service` / `npx create-agent-service`.
// dist/cli.js is the entry of the bundle built by scripts/build.mjs (npm run build).
import * as nodeModule from 'node:module';

// Node 22.1+: cache compiled bytecode of the bundle between runs (no-op on Node 20).
try {
  nodeModule.enableCompileCache?.();
} catch {
  // a read-only or missing cache directory only costs speed
}
const { main } = await import('../dist/cli.js');
process.exitCode = await main();
