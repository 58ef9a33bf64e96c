#!/usr/bin/env node
// Entry point of `npm create agent-service` / `npx create-agent-service`.
// dist/cli.js is the bundle built by scripts/build.mjs (npm run build).
import { main } from '../dist/cli.js';

process.exitCode = await main();
