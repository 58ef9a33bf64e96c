#!/usr/bin/env node
/**
 * Maintainer command: refresh (or check) the uv lock of every dependency profile.
 *
 *   npm run locks              # rewrite templates/locks/<profile>.uv.lock (needs PyPI)
 *   npm run locks -- --check   # `uv lock --check` per profile; exit 1 when one is stale
 *
 * A profile is framework x observability x store (see lockProfile()). For each,
 * the service is rendered with the real renderer into a temp dir (only
 * pyproject.toml is used), `uv lock` runs there, and the lock is stored with
 * the project name replaced by __PROJECT_NAME__ (lockFor() puts it back).
 * Profiles whose layers do not exist yet are skipped and listed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const templatesDir = join(root, 'templates');
const locksDir = join(templatesDir, 'locks');
const check = process.argv.includes('--check');
const PLACEHOLDER_NAME = 'lock-profile-project';

const { render } = await tsImport('../generators/app/render.ts', import.meta.url);
const { layersFor, lockProfile } = await tsImport('../generators/app/layers.ts', import.meta.url);

const frameworks = ['fastapi', 'litestar'];
const observabilities = ['prometheus', 'otel', 'minimal'];
const stores = ['memory', 'redis', 'postgres'];
// Layers that contribute to pyproject.toml; the others (docker, compose, ...) do not matter here.
const dependencyLayers = (answers) => layersFor(answers).filter((l) => !['docker', 'compose'].includes(l) && !l.startsWith('ci-') && !l.startsWith('k8s-'));

function answersFor(framework, observability, store) {
  return {
    name: PLACEHOLDER_NAME,
    description: 'lock profile',
    owner: 'acme',
    image: 'example.com/acme/lock-profile-project',
    host: 'lock-profile-project.example.com',
    port: 8000,
    framework,
    observability,
    store,
    ci: 'none',
    k8s: 'none',
    python: '3.12',
    replicas: 1,
  };
}

/** A templates dir with every existing layer (missing non-dependency layers empty) and a placeholder lock. */
function stagingTemplates(answers, work) {
  const dir = join(work, 'templates');
  mkdirSync(dir);
  // Every existing layer (templates may include files across layers), placeholders for the rest.
  for (const entry of readdirSync(templatesDir, { withFileTypes: true })) {
    if (entry.name !== 'locks') symlinkSync(join(templatesDir, entry.name), join(dir, entry.name)); // layers, and templates/_pins.json
  }
  for (const layer of layersFor(answers)) {
    if (!existsSync(join(dir, layer))) mkdirSync(join(dir, layer));
  }
  mkdirSync(join(dir, 'locks'));
  writeFileSync(join(dir, 'locks', `${lockProfile(answers)}.uv.lock`), '');
  return dir;
}

const uv = (args, cwd) => execFileSync('uv', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

const skipped = [];
const stale = [];
let done = 0;
for (const framework of frameworks) {
  for (const observability of observabilities) {
    for (const store of stores) {
      const answers = answersFor(framework, observability, store);
      const profile = lockProfile(answers);
      const missing = dependencyLayers(answers).filter((l) => !existsSync(join(templatesDir, l)));
      if (missing.length > 0) {
        skipped.push(`${profile} (missing: ${missing.join(', ')})`);
        continue;
      }
      const work = mkdtempSync(join(tmpdir(), `locks-${profile}-`));
      try {
        const tree = render(answers, { templatesDir: stagingTemplates(answers, work), generatorVersion: '0.0.0' });
        const project = join(work, 'project');
        mkdirSync(project);
        writeFileSync(join(project, 'pyproject.toml'), tree.get('pyproject.toml').content);
        writeFileSync(join(project, 'README.md'), '');
        const lockPath = join(locksDir, `${profile}.uv.lock`);
        if (check) {
          if (!existsSync(lockPath)) {
            stale.push(`${profile} (no lock)`);
            continue;
          }
          writeFileSync(join(project, 'uv.lock'), readFileSync(lockPath, 'utf8').replaceAll('__PROJECT_NAME__', PLACEHOLDER_NAME));
          try {
            uv(['lock', '--check', '--offline'], project);
            console.log(`ok     ${profile}`);
          } catch (err) {
            stale.push(profile);
            console.log(`STALE  ${profile}\n${String(err.stderr ?? '').trim()}`);
          }
        } else {
          if (existsSync(lockPath)) {
            // Start from the current lock so unchanged pins stay put.
            writeFileSync(join(project, 'uv.lock'), readFileSync(lockPath, 'utf8').replaceAll('__PROJECT_NAME__', PLACEHOLDER_NAME));
          }
          uv(['lock'], project);
          const lock = readFileSync(join(project, 'uv.lock'), 'utf8').replaceAll(PLACEHOLDER_NAME, '__PROJECT_NAME__');
          mkdirSync(locksDir, { recursive: true });
          writeFileSync(lockPath, lock);
          console.log(`locked ${profile}`);
        }
        done += 1;
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  }
}
if (skipped.length) console.log(`skipped (layers not written yet):\n  ${skipped.join('\n  ')}`);
if (check && stale.length) {
  console.error(`stale locks: ${stale.join(', ')}; run npm run locks`);
  process.exit(1);
}
console.log(`${done} profile(s) ${check ? 'checked' : 'locked'}`);
// the names a service may not take follow the locks (generators/app/locked-names.ts)
if (!check) execFileSync(process.execPath, [join(root, 'scripts', 'locked-names.mjs')], { stdio: 'inherit' });
