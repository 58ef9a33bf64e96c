// Every accepted value must give a project whose own `make lint` passes: render the real
// templates with accepted-but-odd values (a fixed corpus plus seeded random strings over
// an alphabet of quoting, YAML and Markdown specials) and run the locked ruff's
// `ruff check` and `ruff format --check` on the output, as the generated Makefile does.
//
// Needs uv (UV=path or on PATH) and ruff of the version in templates/locks, from the uv
// cache or PyPI: not part of `npm test`; `.ci/run` runs it (npx vitest run --project lint).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers, validateDescription } from '../../generators/app/options.js';
import { render } from '../../generators/app/render.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TEMPLATES = join(ROOT, 'templates');
const UV = process.env.UV ?? 'uv';

/** The one ruff version every lock pins (the generated `make lint` runs it). */
function lockedRuff(): string {
  const versions = new Set<string>();
  const locks = join(TEMPLATES, 'locks');
  for (const f of readdirSync(locks).filter((x) => x.endsWith('.uv.lock'))) {
    const m = /\[\[package\]\]\nname = "ruff"\nversion = "([^"]+)"/.exec(readFileSync(join(locks, f), 'utf8'));
    if (m) versions.add(m[1]!);
  }
  expect(versions.size, 'every lock pins the same ruff').toBe(1);
  return [...versions][0]!;
}

const CORPUS = [
  'He said "hi"',
  'He said "hi" and \'bye\'',
  "it's the user's agent",
  '"""triple""" and \'\'\'triple\'\'\'',
  'ends with a backslash \\',
  'back\\slash \\n \\x41 \\u00e9 \\N{BULLET}',
  'key: value # not a comment',
  '# heading? no: text',
  '--- not a rule',
  '- not a list item',
  '1. not a list',
  '> not a quote * not emphasis + plus',
  '&anchor *alias !tag %directive @at ? key | pipe',
  '{ "json": true } [1, 2]',
  'caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \u041a\u0438\u0440\u0438\u043b\u043b\u0438\u0446\u0430 \u05e2\u05d1\u05e8\u05d9\u05ea',
  'mixed \u0441yrillic a and en dash \u2013 and \u201csmart quotes\u201d \u2019',
  'emoji \ud83d\ude80 and ZWJ-free text \u00bd \u00a0nbsp',
  `${'"quoted" '.repeat(22)}end`.slice(0, 200),
];

/** Seeded (deterministic) random strings over the characters that need care in some format. */
function randomDescriptions(n: number): string[] {
  const alphabet = [
    ...'"\'\\#:-*>+&!|%@?[]{}()<>=_~^,;. \t'.replace('\t', ''),
    'a',
    'Z',
    '7',
    '\u00e9',
    '\u2013',
    '\u65e5',
    '\ud83d\ude80',
    '"""',
    "'''",
    '\\\\',
    '\\"',
    "\\'",
  ];
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const out: string[] = [];
  while (out.length < n) {
    const len = 1 + Math.floor(next() * 40);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(next() * alphabet.length)];
    s = `x${s}y`;
    if (validateDescription(s) === undefined) out.push(s);
  }
  return out;
}

function writeTree(tree: Map<string, { content: Buffer; mode: number }>, dir: string): void {
  for (const [rel, f] of tree) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), f.content);
    chmodSync(join(dir, rel), f.mode);
  }
}

describe('generated Python passes its own ruff check and ruff format --check for odd accepted values', () => {
  const ruff = lockedRuff();
  const run = (args: string[], cwd: string) =>
    spawnSync(UV, ['tool', 'run', `ruff@${ruff}`, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it(`ruff ${ruff} runs through uv (${UV})`, () => {
    const r = spawnSync(UV, ['tool', 'run', `ruff@${ruff}`, '--version'], { encoding: 'utf8' });
    expect(r.error, `cannot run ${UV}: set UV=/path/to/uv`).toBeUndefined();
    expect(r.stdout.trim()).toBe(`ruff ${ruff}`);
  });

  const descriptions = [...CORPUS, ...randomDescriptions(24)];
  it.each(descriptions.map((d, i) => [i, d] as const))('#%i %j', (i, description) => {
    expect(validateDescription(description), 'the corpus holds accepted values only').toBeUndefined();
    // alternate the frameworks and stacks: every Python file that quotes the description is covered
    const framework = i % 2 === 0 ? 'fastapi' : 'litestar';
    const observability = (['prometheus', 'otel', 'minimal'] as const)[i % 3];
    const answers = resolveAnswers([{ values: { name: 'odd-svc', description, framework, observability }, origin: (k) => k }]);
    const dir = mkdtempSync(join(tmpdir(), 'cas-lint-'));
    writeTree(render(answers, { templatesDir: TEMPLATES, generatorVersion: '0.0.0' }), dir);
    const check = run(['check', '--no-cache', '.'], dir);
    expect(check.status, `ruff check:\n${check.stdout}${check.stderr}`).toBe(0);
    const format = run(['format', '--check', '--diff', '--no-cache', '.'], dir);
    expect(format.status, `ruff format --check:\n${format.stdout}${format.stderr}`).toBe(0);
  });
});
