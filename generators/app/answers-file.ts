/**
 * The answers file (`.agent-service.json`) written into every generated project:
 * the generator version and every answer, enough for `check`/`update` to
 * regenerate the project exactly, plus `ownedPaths` (globs the team owns,
 * skipped by the drift check). Its JSON Schema is derived from OPTIONS.
 */

import { isVersion } from '../version.js';
import type { Answers } from './answers.js';
import { UsageError } from './errors.js';
import { answersFromObject, OPTION_KEYS, optionSpec, type PartialAnswers, printable, reservedNames } from './options.js';

export const ANSWERS_FILE = '.agent-service.json';

/**
 * ownedPaths of a new project, unless a preset or answers file gives its own: the
 * scaffold the user is meant to change (code, tests, README, dependencies, local
 * settings) is theirs from the start, so `check` in CI gates only the files a
 * platform team standardises: Dockerfile, .dockerignore, compose.yaml, the CI
 * files, deploy/, the Makefile and docs/CONTRACT.md (the service contract those
 * rely on). Widen or narrow it by editing the answers file.
 */
export const DEFAULT_OWNED_PATHS: readonly string[] = [
  'src/**',
  'tests/**',
  'evals/**',
  'README.md',
  'pyproject.toml',
  'uv.lock',
  '.python-version',
  '.env.example',
  '.gitignore',
  '.pre-commit-config.yaml',
];

export const schemaUrl = (version: string): string => `https://unpkg.com/create-agent-service@${version}/schema/agent-service.schema.json`;

export interface AnswersFile {
  generatorVersion: string;
  answers: Answers;
  ownedPaths: readonly string[];
}

/** Deterministic: fixed key order (schema order), 2-space JSON, trailing newline. */
export function serializeAnswersFile(f: AnswersFile): string {
  const answers: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) answers[k] = f.answers[k];
  const doc = {
    $schema: schemaUrl(f.generatorVersion),
    generatorVersion: f.generatorVersion,
    answers,
    ownedPaths: [...f.ownedPaths],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export function validateOwnedPath(p: unknown, where: string): string {
  if (typeof p !== 'string' || p === '') throw new UsageError(`${where}: expected a non-empty glob string`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (p.startsWith('/') || p.split('/').includes('..') || /[\u0000-\u001f]/.test(p))
    throw new UsageError(`${where}: "${printable(p)}" must be a relative glob inside the project (no leading /, no ..)`);
  return p;
}

export interface ParsedFile {
  answers: PartialAnswers;
  generatorVersion?: string;
  ownedPaths?: string[];
}

/** Parse `text` as a JSON object; one UsageError naming `where` otherwise. */
export function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${where}: expected a JSON object`);
  return doc as Record<string, unknown>;
}

/**
 * Parse an answers file (`complete`: every answer required) or a preset (partial;
 * either the answers-file shape or a flat object of answers).
 */
export function parseAnswersText(text: string, where: string, complete: boolean): ParsedFile {
  const obj = parseJsonObject(text, where);
  const fileShape = 'answers' in obj || 'generatorVersion' in obj || 'ownedPaths' in obj || '$schema' in obj;
  if (!fileShape) {
    if (complete) throw new UsageError(`${where}: key "answers" is missing`);
    return { answers: answersFromObject(obj, where, false) };
  }
  for (const k of Object.keys(obj))
    if (!['$schema', 'generatorVersion', 'answers', 'ownedPaths'].includes(k))
      throw new UsageError(`${where}: unknown key "${printable(k)}" (valid keys: $schema, generatorVersion, answers, ownedPaths)`);
  const out: ParsedFile = { answers: {} };
  if (obj.generatorVersion !== undefined) {
    if (typeof obj.generatorVersion !== 'string' || !isVersion(obj.generatorVersion))
      throw new UsageError(`${where}: key "generatorVersion": expected a version such as "0.1.0"`);
    out.generatorVersion = obj.generatorVersion;
  } else if (complete) throw new UsageError(`${where}: key "generatorVersion" is missing`);
  if (obj.answers === undefined) {
    if (complete) throw new UsageError(`${where}: key "answers" is missing`);
  } else {
    if (obj.answers === null || typeof obj.answers !== 'object' || Array.isArray(obj.answers))
      throw new UsageError(`${where}: key "answers": expected an object`);
    out.answers = answersFromObject(obj.answers, where, complete);
  }
  if (obj.ownedPaths !== undefined) {
    if (!Array.isArray(obj.ownedPaths)) throw new UsageError(`${where}: key "ownedPaths": expected an array of globs`);
    out.ownedPaths = obj.ownedPaths.map((p, i) => validateOwnedPath(p, `${where}: key "ownedPaths[${i}]"`));
  }
  return out;
}

/** JSON Schema (2020-12) of the answers file, generated from OPTIONS. */
export function answersJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) {
    const spec = optionSpec(k);
    const p: Record<string, unknown> = { description: spec.help };
    if (spec.kind === 'choice') {
      p.type = 'string';
      p.enum = spec.choices.map((c) => c.value);
      p.default = spec.default;
    } else if (spec.kind === 'int') {
      p.type = 'integer';
      p.minimum = spec.min;
      p.maximum = spec.max;
      if (typeof spec.default === 'number') p.default = spec.default;
    } else {
      p.type = 'string';
      p.minLength = 1;
      p.maxLength = spec.maxLength;
      if (spec.pattern) p.pattern = spec.pattern;
      if (typeof spec.default === 'string' && spec.default) p.default = spec.default;
    }
    properties[k] = p;
  }
  properties.name = { ...(properties.name as object), not: { enum: reservedNames() } };
  (properties.description as Record<string, unknown>).pattern = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029$`]*$';
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://unpkg.com/create-agent-service/schema/agent-service.schema.json',
    title: 'create-agent-service answers file (.agent-service.json)',
    description:
      'The answers a service was generated from. A preset (--preset) has the same shape with every key optional. Generated from generators/app/options.ts; do not edit.',
    type: 'object',
    additionalProperties: false,
    required: ['generatorVersion', 'answers'],
    properties: {
      $schema: { type: 'string' },
      generatorVersion: { type: 'string', description: 'Version of create-agent-service that generated the project.' },
      answers: {
        type: 'object',
        additionalProperties: false,
        required: [...OPTION_KEYS],
        properties,
      },
      ownedPaths: {
        type: 'array',
        description: 'Globs of paths the team owns: skipped by `create-agent-service check` and left alone by `update`.',
        items: { type: 'string', minLength: 1 },
        default: [],
      },
    },
  };
}

export const answersJsonSchemaText = (): string => `${JSON.stringify(answersJsonSchema(), null, 2)}\n`;
