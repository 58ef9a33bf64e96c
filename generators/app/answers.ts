/**
 * The answers a service is generated from. Plain, serialisable, versioned.
 * The type is derived from the options schema (options.ts), the source of truth
 * for values, defaults and validation.
 */
import type { ResolvedAnswers } from './options.js';

export type Answers = ResolvedAnswers;

/** Python package name for a DNS-1123 service name. */
export const pythonPackage = (name: string): string => name.replace(/-/g, '_');
