/**
 * Two real builds of the generator for the drift tests:
 *   v1: the current tree (generators/, bin/, package.json, scripts/build.mjs)
 *   v2: the same, patched: a template change in a file, a removed file, an added
 *       file, a new option in the options schema with a template that uses it,
 *       and a bumped version.
 * Both use test/drift/fixtures/templates (small layers) and are bundled with the
 * repo's own scripts/build.mjs into <copy>/dist/cli.js, then driven as processes
 * through <copy>/bin/create-agent-service.js.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE_TEMPLATES = join(REPO, 'test', 'drift', 'fixtures', 'templates');

export interface Build {
  root: string;
  version: string;
  bin: string;
}

export interface Builds {
  tmp: string;
  v1: Build;
  v2: Build;
  cleanup(): void;
}

function replaceIn(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`patch: "${from}" not found in ${file}`);
  writeFileSync(file, text.replace(from, to));
}

function copyRepo(dest: string): void {
  mkdirSync(join(dest, 'scripts'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(dest, 'package.json'));
  cpSync(join(REPO, 'bin'), join(dest, 'bin'), { recursive: true });
  cpSync(join(REPO, 'generators'), join(dest, 'generators'), { recursive: true });
  cpSync(join(REPO, 'scripts', 'build.mjs'), join(dest, 'scripts', 'build.mjs'));
  cpSync(FIXTURE_TEMPLATES, join(dest, 'templates'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dest, 'node_modules'), 'dir');
}

function build(root: string): Build {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'pipe' });
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return { root, version, bin: join(root, 'bin', 'create-agent-service.js') };
}

/** The patch between v1 and v2, as a template author would write it. */
function patchV2(root: string, version: string): void {
  const pkgPath = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
  pkg.version = version;
  writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  const t = join(root, 'templates');
  // a change near the end of README (user edits near the top merge cleanly)
  replaceIn(join(t, 'base', 'README.md.ejs'), 'Ask the platform team.', 'Ask the platform team in #agent-services.');
  // a change on the line a user is likely to edit too (conflict)
  replaceIn(join(t, 'docker', 'Dockerfile.ejs'), 'USER 10001', 'USER 65532');
  // a change in a file teams usually own (ownedPaths: src/**/tools/*.py)
  replaceIn(join(t, 'python', 'src', '__pkg__', 'tools', 'search.py'), 'no results for', 'nothing found for');
  // a file dropped, a file added
  rmSync(join(t, 'base', 'NOTES.md'));
  writeFileSync(join(t, 'base', 'CONTRIBUTING.md'), 'Open a pull request.\n');
  // a new option, in the one place options live (the schema), and a template that uses it
  replaceIn(
    join(root, 'generators', 'app', 'schema.ts'),
    '} as const satisfies Record<string, OptionSpec>;',
    `  license: {
    kind: 'choice',
    flag: 'license',
    metavar: 'NAME',
    help: 'License of the generated project.',
    message: 'License',
    default: 'apache-2.0',
    choices: [
      { value: 'apache-2.0', hint: 'permissive, with a patent grant' },
      { value: 'mit', hint: 'permissive, short' },
    ],
  },
} as const satisfies Record<string, OptionSpec>;`,
  );
  writeFileSync(join(t, 'base', 'LICENSE.ejs'), 'License: <%= license %>\n');
}

export function makeBuilds(): Builds {
  const tmp = mkdtempSync(join(tmpdir(), 'cas-drift-'));
  const v1root = join(tmp, 'v1');
  const v2root = join(tmp, 'v2');
  copyRepo(v1root);
  copyRepo(v2root);
  const v1 = build(v1root);
  patchV2(v2root, `${v1.version}-drift.2`);
  const v2 = build(v2root);
  return { tmp, v1, v2, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a build's CLI as a real process, non-interactive, offline. */
export function cli(b: Build, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const res = spawnSync(process.execPath, [b.bin, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', CREATE_AGENT_SERVICE_OFFLINE: '1', CREATE_AGENT_SERVICE_CACHE: join(cwd, '.cas-cache'), ...env },
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export const GEN_FLAGS = ['--yes', '--no-git', '--no-install', '--observability', 'minimal', '--ci', 'none', '--k8s', 'none'];

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

/**
 * Generate a project with `b` into cwd/name and commit it to a fresh git repo. Unless
 * `defaultOwned`, with `ownedPaths: []` (from a preset), so every generated file is
 * checked and updated; new projects own their scaffold (src/**, tests/**, README.md, ...).
 */
export function generate(b: Build, cwd: string, name: string, commit = true, defaultOwned = false): string {
  const preset = join(cwd, 'nothing-owned.preset.json');
  if (!defaultOwned) writeFileSync(preset, '{"ownedPaths": []}\n');
  const r = cli(b, [name, ...GEN_FLAGS, ...(defaultOwned ? [] : ['--preset', preset])], cwd);
  if (r.code !== 0) throw new Error(`generate failed: ${r.stderr}`);
  const dir = join(cwd, name);
  if (commit) {
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'generated');
  }
  return dir;
}
