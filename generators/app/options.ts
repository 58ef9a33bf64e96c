/**
 * The options schema and everything derived from it, in one import:
 * schema.ts (OPTIONS, types, run options), validators.ts (single values),
 * rules.ts (combinations, resolution), help.ts (--help), errors.ts (UsageError).
 */
export * from './errors.js';
export * from './schema.js';
export * from './validators.js';
export * from './rules.js';
export * from './help.js';
