/**
 * The hidden, stable machine interface every version of the CLI carries:
 *
 *   create-agent-service __render --answers FILE [--migrate]
 *
 * prints one JSON object on stdout and writes nothing:
 *
 *   {"protocol": 1, "generatorVersion": "0.1.0",
 *    "answers": {...the complete answers rendered...},
 *    "defaulted": ["newOption", ...],   // --migrate: options FILE lacked, filled with defaults
 *    "dropped": ["oldOption", ...],     // --migrate: answers this version does not know
 *    "files": [{"path": "...", "mode": 420, "sha256": "...", "base64": "..."}, ...],
 *    "otherPaths": ["...", ...]}        // what other answers would emit (check's "added")
 *
 * Without --migrate the answers must be complete and valid for this version
 * (exactly what `create --answers FILE` accepts). The recorded generatorVersion
 * is not used: this version renders, and says which it is. `check` and `update`
 * call this on an installed copy of another generator version, so the protocol
 * must stay backward compatible: add fields, never change or remove one.
 * Exit 0 with JSON, 2 with a one-line error on stderr.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAnswersText } from '../app/answers-file.js';
import { UsageError } from '../app/errors.js';
import { answersFromObject, isOptionKey, OPTION_KEYS, type PartialAnswers, type ResolvedAnswers, resolveAnswers } from '../app/options.js';
import { everyLayerPath, type RenderedTree, render } from '../app/render.js';
import { parseCommandArgs } from '../args.js';
import { TEMPLATES_DIR } from '../paths.js';
import { VERSION } from '../version.js';
import { type AnswersDoc, parseAnswersDoc } from './answers.js';

const PROTOCOL = 1;

export interface RenderResult {
  generatorVersion: string;
  answers: Record<string, unknown>;
  defaulted: string[];
  dropped: string[];
  files: RenderedTree;
  /**
   * Paths any layer of this version could emit for this service name but does not
   * for these answers (another framework's, store's, CI's files...). A project file
   * at one of them is reported by check as "added". Optional in the protocol.
   */
  otherPaths: string[];
}

/**
 * Complete `doc`'s answers for this version: drop unknown keys, fill missing ones
 * with their defaults (after `given`, e.g. answers just asked interactively).
 */
function migrateAnswers(doc: AnswersDoc, given: PartialAnswers = {}): { answers: ResolvedAnswers; defaulted: string[]; dropped: string[] } {
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(doc.answers)) {
    if (isOptionKey(k)) kept[k] = v;
    else dropped.push(k);
  }
  const values = answersFromObject(kept, `${doc.where}: answers`, false);
  const defaulted = OPTION_KEYS.filter((k) => values[k] === undefined && given[k] === undefined);
  const answers = resolveAnswers([
    { values, origin: (k) => `${doc.where}: key "answers.${k}"` },
    { values: given, origin: (k) => `answer to "${k}"` },
  ]);
  return { answers, defaulted, dropped };
}

/** Render with the running generator version, in memory. */
export function renderDoc(doc: AnswersDoc, migrate: boolean, given: PartialAnswers = {}): RenderResult {
  let answers: ResolvedAnswers;
  let defaulted: string[] = [];
  let dropped: string[] = [];
  if (migrate) {
    ({ answers, defaulted, dropped } = migrateAnswers(doc, given));
  } else {
    const parsed = parseAnswersText(JSON.stringify(doc.raw), doc.where, true);
    answers = resolveAnswers([{ values: parsed.answers, origin: (k) => `${doc.where}: key "answers.${k}"` }]);
  }
  const files = render(answers, { templatesDir: TEMPLATES_DIR, generatorVersion: VERSION, ownedPaths: doc.ownedPaths });
  const otherPaths = [...everyLayerPath(TEMPLATES_DIR, answers.name)].filter((p) => !files.has(p)).sort();
  return { generatorVersion: VERSION, answers: { ...answers }, defaulted, dropped, files, otherPaths };
}

function toJson(r: RenderResult): string {
  const files = [...r.files].map(([path, f]) => ({
    path,
    mode: f.mode,
    sha256: createHash('sha256').update(f.content).digest('hex'),
    base64: f.content.toString('base64'),
  }));
  return `${JSON.stringify({ protocol: PROTOCOL, generatorVersion: r.generatorVersion, answers: r.answers, defaulted: r.defaulted, dropped: r.dropped, files, otherPaths: r.otherPaths })}\n`;
}

/** `__render` entry point: argv after "__render"; returns the exit code. Throws UsageError. */
export async function run(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values } = parseCommandArgs(argv, { answers: { type: 'string' }, migrate: { type: 'boolean' } }, false, '__render');
  if (typeof values.answers !== 'string') throw new UsageError('__render: --answers FILE is required');
  let text: string;
  try {
    text = readFileSync(values.answers, 'utf8');
  } catch (err) {
    throw new UsageError(`${values.answers}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const doc = parseAnswersDoc(text, values.answers);
  const json = toJson(renderDoc(doc, values.migrate === true));
  await new Promise<void>((res, rej) => out.write(json, (err) => (err ? rej(err) : res())));
  return 0;
}
