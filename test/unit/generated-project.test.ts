// What a new user reads and runs first in a generated project, checked on every preset's
// rendered tree: cited documents exist, the README says things once, `make dev` watches
// src/ only, compose runs what the app exports to; and the preset matrix itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnswersText } from '../../generators/app/answers-file.js';
import { OPTIONS, resolveAnswers } from '../../generators/app/options.js';
import { type RenderedTree, render } from '../../generators/app/render.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TEMPLATES = join(ROOT, 'templates');
const PRESETS = join(ROOT, 'test', 'presets');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

const presets = readdirSync(PRESETS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();

function presetAnswers(preset: string) {
  const file = `test/presets/${preset}.json`;
  const parsed = parseAnswersText(readFileSync(join(PRESETS, `${preset}.json`), 'utf8'), file, false);
  return { parsed, answers: resolveAnswers([{ values: parsed.answers, origin: (k) => `${file}: key "${k}"` }]) };
}

function renderPreset(preset: string): RenderedTree {
  const { parsed, answers } = presetAnswers(preset);
  return render(answers, { templatesDir: TEMPLATES, generatorVersion: VERSION, ownedPaths: parsed.ownedPaths ?? [] });
}

const text = (tree: RenderedTree, path: string): string => {
  const file = tree.get(path);
  if (!file) throw new Error(`${path} is not generated`);
  return file.content.toString('utf8');
};

/**
 * Every relative Markdown document a file names: `docs/CONTRACT.md`, `CONTRACT.md` in a
 * comment, `[text](docs/x.md#part)` in Markdown. URLs are not documents of the project.
 */
function citedDocuments(content: string): string[] {
  const cited = new Set<string>();
  for (const match of content.matchAll(/(?<![\w./:-])((?:\.{0,2}\/)?(?:[\w.-]+\/)*[\w.-]+\.md)(?![\w/-])/g)) {
    const start = match.index ?? 0;
    const before = content.slice(Math.max(0, start - 200), start);
    if (/[a-z][a-z0-9+.-]*:\/\/\S*$/i.test(before)) continue; // part of a URL
    if (match[1]) cited.add(match[1]);
  }
  return [...cited];
}

describe('citedDocuments', () => {
  it('finds plain, commented and linked paths and skips URLs', () => {
    expect(
      citedDocuments('# see CONTRACT.md "Errors"\n[the contract](docs/CONTRACT.md#errors) and ./NOTES.md; https://example.com/x/README.md').sort(),
    ).toEqual(['./NOTES.md', 'CONTRACT.md', 'docs/CONTRACT.md']);
  });
});

/** Documents the project writes when it runs, not ones it ships: `make eval`'s report (evals/out/summary.md). */
const WRITTEN_AT_RUN_TIME = new Set(['summary.md']);

describe.each(presets)('generated project %s', (preset) => {
  const tree = renderPreset(preset);
  const { answers } = presetAnswers(preset);

  it('cites only documents it contains (paths from the project root, or from the citing Markdown file)', () => {
    const missing: string[] = [];
    for (const [path, file] of tree) {
      if (path.endsWith('.lock')) continue; // package metadata, not citations
      const content = file.content.toString('utf8');
      for (const doc of citedDocuments(content)) {
        if (WRITTEN_AT_RUN_TIME.has(posix.basename(doc))) continue;
        const fromRoot = posix.normalize(doc);
        const fromFile = posix.normalize(posix.join(posix.dirname(path), doc));
        if (!tree.has(fromRoot) && !(path.endsWith('.md') && tree.has(fromFile))) missing.push(`${path} cites ${doc}`);
      }
    }
    expect(missing).toEqual([]);
    expect(tree.has('docs/CONTRACT.md')).toBe(true);
  });

  it('says the description once in the README', () => {
    const readme = text(tree, 'README.md');
    const plain = String(answers.description).replace(/[\\*_`#>+-]/g, '');
    const plainReadme = readme.replace(/[\\*_`#>+-]/g, '');
    expect(plainReadme.split(plain).length - 1).toBe(1);
  });

  it('make dev reloads on changes under src/ only (not the .venv)', () => {
    const makefile = text(tree, 'Makefile');
    const recipe = makefile.match(/^dev:.*\n((?:\t.*\n)+)/m)?.[1] ?? '';
    expect(recipe).toMatch(/uvicorn .*--reload\b/);
    expect(recipe).toMatch(/--reload-dir src(\s|$)/);
    expect([...tree.keys()].some((p) => p.startsWith('src/'))).toBe(true);
  });

  it('compose runs, without a profile, every host the app and the collector export to', () => {
    const compose = text(tree, 'compose.yaml');
    const services = new Map<string, string>();
    const body = compose.split(/^services:\n/m)[1]?.split(/^\S/m)[0] ?? '';
    for (const block of body.split(/^(?= {2}[\w-]+:\n)/m)) {
      const name = block.match(/^ {2}([\w-]+):\n/)?.[1];
      if (name) services.set(name, block);
    }
    const hosts = new Set<string>();
    for (const m of (services.get('app') ?? '').matchAll(/OTEL_EXPORTER_OTLP_ENDPOINT: *"?https?:\/\/([\w-]+)/g)) hosts.add(m[1] ?? '');
    const collector = tree.get('deploy/otel-collector/config.yaml')?.content.toString('utf8') ?? '';
    const exporters = collector.split(/^exporters:\n/m)[1]?.split(/^\S/m)[0] ?? '';
    for (const m of exporters.matchAll(/endpoint: *"?(?:https?:\/\/)?([a-z][\w-]*):\d+/g)) hosts.add(m[1] ?? '');
    if (answers.observability === 'otel') expect(hosts.size).toBeGreaterThan(0);
    for (const host of hosts) {
      expect(services.has(host), `compose service ${host}`).toBe(true);
      expect(services.get(host), `compose service ${host} has no profile`).not.toMatch(/^ {4}profiles:/m);
    }
  });
});

describe('the preset matrix', () => {
  it('covers every framework with every Python version', () => {
    const choices = (key: 'framework' | 'python') => {
      const spec = OPTIONS[key];
      if (spec.kind !== 'choice') throw new Error(`${key} is not a choice option`);
      return spec.choices.map((c) => String(c.value));
    };
    const seen = new Set(presets.map((p) => `${presetAnswers(p).answers.framework} ${presetAnswers(p).answers.python}`));
    const missing = choices('framework')
      .flatMap((f) => choices('python').map((v) => `${f} ${v}`))
      .filter((pair) => !seen.has(pair));
    expect(missing).toEqual([]);
  });
});
