/**
 * The options schema and everything derived from it, in one import:
 * schema.ts (OPTIONS, types, run options), validators.ts (single values),
 * rules.ts (combinations, resolution), help.ts (--help). UsageError, which they
 * throw, is imported from errors.ts itself.
 */

export * from './help.js';
export * from './rules.js';
export * from './schema.js';
export * from './validators.js';
