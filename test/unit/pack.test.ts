// The template pack (dist/templates.cjs, generators/app/pack.ts): precompiled templates must
// render exactly what the live templates render, and a pack that no longer matches
// templates/ must never be used.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAnswersText } from '../../generators/app/answers-file.js';
import { layersFor } from '../../generators/app/layers.js';
import { resolveAnswers } from '../../generators/app/options.js';
import { buildPackSource } from '../../generators/app/pack-build.js';
import { loadPack, packIsFresh, templatesHash, type LoadedPack } from '../../generators/app/pack.js';
import { render, type RenderedTree } from '../../generators/app/render.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TEMPLATES = join(ROOT, 'templates');
const FIXTURE = join(ROOT, 'test', 'unit', 'fixtures', 'templates');
const PRESETS = join(ROOT, 'test', 'presets');
const VERSION = '0.0.0-test';
const tmp = mkdtempSync(join(tmpdir(), 'cas-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Build a pack of `templatesDir` into `<root>/dist/templates.cjs` and load it. */
let seq = 0;
function packOf(templatesDir: string): LoadedPack {
  const root = join(tmp, `pkg${seq++}`);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', 'templates.cjs'), buildPackSource(templatesDir).source);
  return loadPack(root)!;
}

const expectSameTree = (a: RenderedTree, b: RenderedTree): void => {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [rel, f] of a) {
    const g = b.get(rel)!;
    expect(g.content.toString('utf8'), rel).toBe(f.content.toString('utf8'));
    expect(g.content.equals(f.content), `${rel} bytes`).toBe(true);
    expect(g.mode, `${rel} mode`).toBe(f.mode);
  }
};

const presets = readdirSync(PRESETS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();

describe('the pack of templates/', () => {
  const loaded = packOf(TEMPLATES);

  it.each(presets)('renders preset %s byte for byte like the live templates', (preset) => {
    const parsed = parseAnswersText(readFileSync(join(PRESETS, `${preset}.json`), 'utf8'), preset, false);
    const answers = resolveAnswers([{ values: parsed.answers, origin: (k) => k }]);
    if (layersFor(answers).some((l) => !existsSync(join(TEMPLATES, l)))) return;
    const opts = { templatesDir: TEMPLATES, generatorVersion: VERSION, ownedPaths: parsed.ownedPaths ?? [] };
    const live = render(answers, opts);
    // prove the precompiled functions are what rendered: a pack function counts its calls
    let calls = 0;
    const counted: LoadedPack = { ...loaded, pack: { ...loaded.pack, top: { ...loaded.pack.top } } };
    for (const [k, fn] of Object.entries(counted.pack.top)) counted.pack.top[k] = (...a) => (calls++, fn(...a));
    const packed = render(answers, { ...opts, pack: counted });
    expect(calls).toBeGreaterThan(0);
    expectSameTree(live, packed);
  });

  it('dist/templates.cjs (npm run build) matches templates/: rebuild with npm run build', () => {
    const built = loadPack(ROOT);
    expect(built, 'dist/templates.cjs missing: run npm run build').toBeDefined();
    expect(built!.pack.hash, 'dist/templates.cjs is stale: run npm run build').toBe(templatesHash(TEMPLATES));
  });
});

describe('a stale pack is never used', () => {
  const answers = resolveAnswers([{ values: { name: 'my-agent' }, origin: (k) => k }]);
  const fresh = (): string => {
    const dir = join(tmp, `tpl${seq++}`);
    cpSync(FIXTURE, dir, { recursive: true });
    return dir;
  };
  const opts = (dir: string, pack?: LoadedPack) => ({ templatesDir: dir, generatorVersion: VERSION, pack });
  const firstTemplate = (dir: string): string => {
    const walk = (d: string, prefix: string): string | undefined => {
      for (const e of readdirSync(join(d, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const rel = prefix ? `${prefix}/${e.name}` : e.name;
        if (e.isDirectory()) {
          const r = walk(d, rel);
          if (r) return r;
        } else if (rel.endsWith('.ejs') && !rel.split('/').some((s) => s.startsWith('_'))) return rel;
      }
      return undefined;
    };
    return walk(dir, 'base')!;
  };
  const stat = (dir: string, layers: string[]) => {
    const files = new Map<string, { size: number; mtimeMs: number }>();
    const walk = (prefix: string): void => {
      for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
        const rel = `${prefix}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else files.set(rel, statSync(join(dir, rel)));
      }
    };
    for (const l of layers) walk(l);
    return files;
  };

  it('an unchanged tree is fresh, also after its modification times moved', () => {
    const dir = fresh();
    const pack = packOf(dir);
    const layers = layersFor(answers);
    expect(packIsFresh(pack, dir, layers, stat(dir, layers))).toBe(true);
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(dir, firstTemplate(dir)), future, future);
    expect(packIsFresh(pack, dir, layers, stat(dir, layers))).toBe(true);
  });

  it('an edited template is rendered from templates/, not the pack (also at the same size)', () => {
    const dir = fresh();
    const pack = packOf(dir);
    const rel = firstTemplate(dir);
    const abs = join(dir, rel);
    const text = readFileSync(abs, 'utf8');
    const edited = `${text.slice(0, -1)}${text.endsWith('Z') ? 'Y' : 'Z'}`;
    writeFileSync(abs, edited);
    const future = new Date(Date.now() + 60_000);
    utimesSync(abs, future, future);
    const layers = layersFor(answers);
    expect(packIsFresh(pack, dir, layers, stat(dir, layers))).toBe(false);
    expectSameTree(render(answers, opts(dir)), render(answers, opts(dir, pack)));
  });

  it('an added or removed file makes the pack stale', () => {
    const dir = fresh();
    const pack = packOf(dir);
    const layers = layersFor(answers);
    writeFileSync(join(dir, 'base', 'ADDED.md.ejs'), 'added <%= name %>\n');
    expect(packIsFresh(pack, dir, layers, stat(dir, layers))).toBe(false);
    const tree = render(answers, opts(dir, pack));
    expect(tree.get('ADDED.md')?.content.toString()).toBe('added my-agent\n');
    rmSync(join(dir, 'base', 'ADDED.md.ejs'));
    expect(packIsFresh(pack, dir, layers, stat(dir, layers))).toBe(true);
    rmSync(join(dir, firstTemplate(dir)));
    expect(packIsFresh(pack, dir, layers, stat(dir, layers))).toBe(false);
    expectSameTree(render(answers, opts(dir)), render(answers, opts(dir, pack)));
  });
});
