/**
 * Where the package lives. Both generators/*.ts (dev, tests) and dist/*.js
 * (the bundle) sit one directory below the package root.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The template layers. CREATE_AGENT_SERVICE_TEMPLATES overrides it (tests use a small fixture). */
export const TEMPLATES_DIR = process.env.CREATE_AGENT_SERVICE_TEMPLATES || join(PACKAGE_ROOT, 'templates');
