/**
 * Where the package lives. Both generators/*.ts (dev, tests) and dist/cli.js
 * (the bundle) sit one directory below the package root.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The template layers. CREATE_AGENT_SERVICE_TEMPLATES overrides it (tests use a small fixture). */
export const TEMPLATES_DIR = process.env.CREATE_AGENT_SERVICE_TEMPLATES || join(PACKAGE_ROOT, 'templates');
/** The precompiled template pack (dist/templates.cjs) is only for the package's own templates/. */
export const USE_TEMPLATE_PACK = !process.env.CREATE_AGENT_SERVICE_TEMPLATES;

declare const __GENERATOR_VERSION__: string | undefined;

/** This generator's version (inlined by the bundle, read from package.json otherwise). */
export const VERSION: string =
  typeof __GENERATOR_VERSION__ === 'string'
    ? __GENERATOR_VERSION__
    : (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
