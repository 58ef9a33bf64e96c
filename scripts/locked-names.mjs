#!/usr/bin/env node
/**
 * Maintainer command: write generators/app/locked-names.ts, the names a service
 * may not take because the generated project already uses them:
 *
 *   - every distribution in templates/locks/*.uv.lock, with the top-level import
 *     names of its wheel (read from the wheel's RECORD: pyyaml -> yaml, _yaml);
 *     a project named like a dependency fails `uv sync`, one whose package is
 *     named like a dependency's module shadows it;
 *   - the module names of the generated tests folder (conftest, store_contract,
 *     test_*), which pytest and the tests import by bare name.
 *
 *   npm run names        # needs PyPI (or a uv cache holding every locked wheel)
 *
 * test/unit/locked-names.test.ts fails when the file no longer matches the locks
 * or the templates, so a lock refresh that adds a dependency cannot forget it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const templatesDir = join(root, 'templates');
const out = join(root, 'generators', 'app', 'locked-names.ts');

/** PEP 503 normalised distribution name. */
const normalise = (n) => n.toLowerCase().replace(/[-_.]+/g, '-');

/** name -> version of every registry package in every lock (one version per name, or the locks disagree). */
export function lockedDistributions(locksDir) {
  const found = new Map();
  for (const f of readdirSync(locksDir)
    .filter((x) => x.endsWith('.uv.lock'))
    .sort()) {
    const text = readFileSync(join(locksDir, f), 'utf8');
    for (const m of text.matchAll(/\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"\nsource = \{ registry/g)) {
      const name = normalise(m[1]);
      const versions = found.get(name) ?? new Set();
      versions.add(m[2]);
      found.set(name, versions);
    }
  }
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, vs]) => [n, [...vs].sort()]));
}

/** Registry packages whose every locked wheel is for Windows and that have no sdist. */
function windowsOnlyDistributions(locksDir) {
  const found = new Set();
  for (const f of readdirSync(locksDir).filter((x) => x.endsWith('.uv.lock'))) {
    for (const block of readFileSync(join(locksDir, f), 'utf8').split('\n[[package]]\n')) {
      const name = /^name = "([^"]+)"/m.exec(block)?.[1];
      const wheels = [...block.matchAll(/\/([^/"]+\.whl)"/g)].map((m) => m[1]);
      if (name && wheels.length && !/^sdist = /m.test(block) && wheels.every((w) => /-win(32|_amd64|_arm64)\.whl$/.test(w))) {
        found.add(normalise(name));
      }
    }
  }
  return found;
}

/** Module names of the generated tests folder, from every layer's tests/. */
export function testModules(dir) {
  const names = new Set();
  for (const layer of readdirSync(dir, { withFileTypes: true })) {
    const tests = join(dir, layer.name, 'tests');
    if (!layer.isDirectory() || !existsSync(tests)) continue;
    for (const f of readdirSync(tests)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\.py(\.ejs)?$/.exec(f);
      if (m) names.add(m[1]);
    }
  }
  return [...names].sort();
}

/** Top-level importable names a wheel installs, from its RECORD. */
function importNames(target, distInfo) {
  const names = new Set();
  for (const line of readFileSync(join(target, distInfo, 'RECORD'), 'utf8').split('\n')) {
    const path = line.split(',')[0];
    if (!path || path.startsWith('..')) continue;
    const top = path.split('/')[0];
    // bin/: console scripts (uv pip install --target puts them there), not modules
    if (top.endsWith('.dist-info') || top.endsWith('.data') || top === '__pycache__' || top === 'bin') continue;
    const mod = path.includes('/') ? top : top.replace(/\.py$/, '');
    if (!path.includes('/') && !top.endsWith('.py')) continue; // .pth, mypyc helper .so, ...
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(mod)) names.add(mod);
  }
  return [...names].sort();
}

function main() {
  const dists = lockedDistributions(join(templatesDir, 'locks'));
  const multi = [...dists].filter(([, vs]) => vs.length > 1);
  const work = mkdtempSync(join(tmpdir(), 'locked-names-'));
  try {
    const reqs = join(work, 'requirements.txt');
    // every version of every name: import names do not change between the versions the locks hold, but be exact
    // Windows-only wheels (pywin32, behind a sys_platform marker) install for Windows.
    const windowsOnly = windowsOnlyDistributions(join(templatesDir, 'locks'));
    const pins = (pick) =>
      [...dists]
        .filter(([n]) => pick(windowsOnly.has(n)))
        .map(([n, vs]) => `${n}==${vs[vs.length - 1]}`)
        .join('\n');
    const target = join(work, 'target');
    const python = process.env.UV_PYTHON ? [] : ['--python', '3.12'];
    for (const [file, text, platform] of [
      [reqs, pins((w) => !w), []],
      [join(work, 'windows.txt'), pins((w) => w), ['--python-platform', 'x86_64-pc-windows-msvc']],
    ]) {
      if (!text) continue;
      writeFileSync(file, text);
      execFileSync('uv', ['pip', 'install', '--quiet', '--no-deps', '--target', target, '-r', file, ...python, ...platform], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    }
    const byDist = new Map();
    for (const d of readdirSync(target).filter((x) => x.endsWith('.dist-info'))) {
      const name = normalise(d.replace(/-[^-]+\.dist-info$/, ''));
      byDist.set(name, importNames(target, d));
    }
    const entries = [...dists.keys()].map((n) => {
      if (!byDist.has(n)) throw new Error(`${n}: installed no .dist-info (is it in a lock but not installable for Python 3.12?)`);
      return `  ${JSON.stringify(n)}: ${JSON.stringify(byDist.get(n))},`;
    });
    const text = [
      '// Generated by scripts/locked-names.mjs (npm run names) from templates/locks and the',
      "// templates' tests folders; do not edit. test/unit/locked-names.test.ts checks it.",
      '',
      '/** Every distribution in templates/locks (PEP 503 name) -> the top-level modules its wheel installs. */',
      'export const LOCKED_DISTRIBUTIONS: Readonly<Record<string, readonly string[]>> = {',
      ...entries,
      '};',
      '',
      '/** Modules of the generated tests folder, imported by bare name by pytest and the tests. */',
      `export const TEST_MODULES: readonly string[] = ${JSON.stringify(testModules(templatesDir))};`,
      '',
    ].join('\n');
    writeFileSync(out, text);
    // in the repository's style (Biome), so `npm run lint` passes on a regenerated file
    execFileSync(process.execPath, [join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'format', '--write', out], { stdio: 'inherit' });
    console.log(`wrote ${out}: ${dists.size} distributions${multi.length ? ` (${multi.length} with several locked versions)` : ''}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
