/** This generator's version, and what a version looks like. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './paths.js';

declare const __GENERATOR_VERSION__: string | undefined;

/** This generator's version (inlined by the bundle, read from package.json otherwise). */
export const VERSION: string =
  typeof __GENERATOR_VERSION__ === 'string'
    ? __GENERATOR_VERSION__
    : (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A semantic version as npm publishes them: 0.1.0, 1.2.3-rc.1, 1.0.0+build. */
export const isVersion = (v: string): boolean => /^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(v);
