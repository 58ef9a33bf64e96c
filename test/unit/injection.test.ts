// Hostile but valid free text must come out as data, never as structure: every generated
// TOML/YAML/Python/JSON file still parses and the text round-trips unchanged.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layersFor } from '../../generators/app/layers.js';
import { resolveAnswers, validateDescription } from '../../generators/app/options.js';
import { render } from '../../generators/app/render.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(import.meta.dirname, 'fixtures', 'templates');
const REAL = join(ROOT, 'templates');

const HOSTILE = [
  'He said "hi" and \'bye\'',
  'back\\slash \\n \\u0000 \\" end\\',
  'key: value # not a comment',
  `${'- item\n'.trim()} ---`,
  '&anchor *alias !tag %directive @at',
  '"""triple""" \'\'\'quotes\'\'\'',
  ']] [[table]] = "x"',
  '<%= process.exit(1) %> <script>alert(1)</script>',
  '\u00e9\u00e8 \u65e5\u672c\u8a9e \ud83d\ude80 emoji',
  "'; rm -rf / #",
  '{ "json": true }',
  '|| && ; > /tmp/x',
];

function writeTree(tree: Map<string, { content: Buffer; mode: number }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cas-inj-'));
  for (const [rel, f] of tree) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), f.content);
    chmodSync(join(dir, rel), f.mode);
  }
  return dir;
}

function parseTree(dir: string): { errors: string[]; parsed: number; values: Record<string, unknown> } {
  return JSON.parse(execFileSync('python3', [join(import.meta.dirname, 'parse_tree.py'), dir], { encoding: 'utf8' }));
}

const realComplete = (a: Parameters<typeof layersFor>[0]) => layersFor(a).every((l) => existsSync(join(REAL, l)));

describe('injection through free text', () => {
  it.each(HOSTILE)('%j is valid input', (d) => expect(validateDescription(d)).toBeUndefined());

  it.each(HOSTILE)('fixture templates: %j stays data', (description) => {
    const answers = resolveAnswers([
      {
        values: { name: 'inj-svc', description, owner: 'team.x/sub_group', image: 'registry.example.com/team.x/sub_group/inj-svc', ci: 'github' },
        origin: (k) => k,
      },
    ]);
    const dir = writeTree(render(answers, { templatesDir: FIXTURE, generatorVersion: '0.0.0' }));
    const r = parseTree(dir);
    expect(r.errors).toEqual([]);
    expect(r.values['pyproject.description']).toBe(description);
    expect(r.values['yaml:compose.yaml']).toEqual([description]);
    expect(r.values['yaml:.github/workflows/ci.yml']).toEqual([description]);
    expect(r.values['yaml:deploy/k8s/deployment.yaml']).toEqual([description]);
  });

  const MIXED = 'He said "hi" \\ \'x\' key: v # c &a *b !t %d """ ]] [[t]] = 1 <%= x %> \u00e9 \ud83d\ude80 \'; rm -rf / #';
  const gitlab = resolveAnswers([{ values: { name: 'inj-svc', description: MIXED, ci: 'gitlab', store: 'redis' }, origin: (k) => k }]);
  const github = resolveAnswers([
    { values: { name: 'inj-svc', description: MIXED, framework: 'litestar', store: 'postgres', observability: 'otel' }, origin: (k) => k },
  ]);
  for (const [label, answers] of [
    ['gitlab/redis', gitlab],
    ['litestar/postgres/otel', github],
  ] as const) {
    it.skipIf(!realComplete(answers))(`real templates (${label}): every TOML/YAML/Python/JSON file parses with the hostile description`, () => {
      const dir = writeTree(render(answers, { templatesDir: REAL, generatorVersion: '0.0.0' }));
      const r = parseTree(dir);
      expect(r.errors).toEqual([]);
      expect(r.parsed).toBeGreaterThan(5);
      expect(r.values['pyproject.description']).toBe(answers.description);
    });
  }
});
