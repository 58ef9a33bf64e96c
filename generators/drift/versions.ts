/**
 * Generator versions: the running one (rendered in process), or another
 * installed copy of create-agent-service driven through its hidden `__render`
 * command (render-command.ts), so check/update can reproduce exactly what that
 * version emitted.
 *
 * Where another version comes from, in order:
 *   1. --generator PATH: a directory holding the package (its package.json, or
 *      PATH/package, or PATH/node_modules/create-agent-service) or a .tgz from
 *      `npm pack`; may be given more than once
 *   2. the cache: $CREATE_AGENT_SERVICE_CACHE, else $XDG_CACHE_HOME/create-agent-service,
 *      else ~/.cache/create-agent-service; <cache>/<version>/package
 *   3. `npm pack create-agent-service@<version>` into the cache, unless
 *      CREATE_AGENT_SERVICE_OFFLINE is set (or the network is not there)
 *   4. otherwise an error that says exactly what to run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../app/errors.js';
import type { RenderedTree } from '../app/render.js';
import { VERSION } from '../version.js';
import type { AnswersDoc } from './answers.js';
import { type RenderResult, renderDoc } from './render-command.js';

const PACKAGE_NAME = 'create-agent-service';

/** One version of create-agent-service that can render answers: the running one, or an installed copy. */
export interface GeneratorVersion {
  version: string;
  /** for messages: "running" or where the copy lives */
  where: string;
  running: boolean;
  /** Render `doc`'s answers; migrate: fill new options with defaults, drop unknown ones. */
  render(doc: AnswersDoc, migrate: boolean, given?: Record<string, unknown>): RenderResult;
}

export const runningVersion = (): GeneratorVersion => ({
  version: VERSION,
  where: 'running',
  running: true,
  render: (doc, migrate, given) => renderDoc(doc, migrate, given as never),
});

interface Pkg {
  name?: string;
  version?: string;
  bin?: string | Record<string, string>;
}

function readPkg(dir: string): Pkg | undefined {
  const p = join(dir, 'package.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Pkg;
  } catch {
    return undefined;
  }
}

/** An installed copy of the package at `root` (the folder holding its package.json). */
function installedVersion(root: string): GeneratorVersion {
  const pkg = readPkg(root);
  if (!pkg || pkg.name !== PACKAGE_NAME || typeof pkg.version !== 'string')
    throw new UsageError(`${root}: not a ${PACKAGE_NAME} package (no package.json named ${PACKAGE_NAME})`);
  const binRel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.[PACKAGE_NAME];
  if (!binRel) throw new UsageError(`${root}/package.json: no "bin" entry for ${PACKAGE_NAME}`);
  const bin = join(root, binRel);
  if (!existsSync(bin)) throw new UsageError(`${bin}: missing (is the copy of ${PACKAGE_NAME} ${pkg.version} built?)`);
  const version = pkg.version;
  return {
    version,
    where: root,
    running: false,
    render(doc, migrate, given) {
      const tmp = mkdtempSync(join(tmpdir(), 'cas-render-'));
      try {
        const file = join(tmp, 'answers.json');
        const raw = given && Object.keys(given).length > 0 ? { ...doc.raw, answers: { ...doc.answers, ...given } } : doc.raw;
        writeFileSync(file, JSON.stringify(raw));
        const res = spawnSync(process.execPath, [bin, '__render', '--answers', file, ...(migrate ? ['--migrate'] : [])], {
          encoding: 'utf8',
          maxBuffer: 1 << 30,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, CI: 'true', NO_COLOR: '1' },
        });
        if (res.error) throw new UsageError(`${PACKAGE_NAME} ${version} (${root}): cannot run it: ${res.error.message}`);
        if (res.status !== 0) {
          const msg = (res.stderr || '').trim().split('\n').pop() ?? '';
          throw new UsageError(
            `${PACKAGE_NAME} ${version} (${root}) could not render ${doc.where}: ${msg.replace(/^error: /, '').replaceAll(file, doc.where)}`,
          );
        }
        return parseRenderJson(res.stdout, `${PACKAGE_NAME} ${version} (${root})`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}

interface RenderJson {
  protocol: number;
  generatorVersion: string;
  answers: Record<string, unknown>;
  defaulted?: string[];
  dropped?: string[];
  files: { path: string; mode: number; sha256: string; base64: string }[];
  otherPaths?: string[];
}

function parseRenderJson(text: string, who: string): RenderResult {
  let j: RenderJson;
  try {
    j = JSON.parse(text) as RenderJson;
  } catch {
    throw new UsageError(`${who}: __render printed something that is not JSON (does this version support check/update?)`);
  }
  if (typeof j.protocol !== 'number' || j.protocol < 1 || !Array.isArray(j.files)) throw new UsageError(`${who}: unexpected __render output`);
  const files: RenderedTree = new Map();
  for (const f of j.files) {
    const content = Buffer.from(f.base64, 'base64');
    if (createHash('sha256').update(content).digest('hex') !== f.sha256) throw new UsageError(`${who}: __render output is corrupt (${f.path})`);
    files.set(f.path, { content, mode: f.mode });
  }
  return {
    generatorVersion: j.generatorVersion,
    answers: j.answers,
    defaulted: j.defaulted ?? [],
    dropped: j.dropped ?? [],
    files,
    otherPaths: j.otherPaths ?? [],
  };
}

function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CREATE_AGENT_SERVICE_CACHE) return resolve(env.CREATE_AGENT_SERVICE_CACHE);
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, PACKAGE_NAME);
  return join(homedir(), '.cache', PACKAGE_NAME);
}

function extractTgz(tgz: string, into: string): string {
  // npm pack tarballs hold everything under package/
  const staging = `${into}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const res = spawnSync('tar', ['-xzf', tgz, '-C', staging], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new UsageError(`${tgz}: cannot unpack it with tar (${res.error?.message ?? res.stderr.trim()})`);
  }
  if (!existsSync(join(staging, 'package', 'package.json'))) {
    rmSync(staging, { recursive: true, force: true });
    throw new UsageError(`${tgz}: not an npm package tarball (no package/package.json inside)`);
  }
  rmSync(into, { recursive: true, force: true });
  mkdirSync(dirname(into), { recursive: true });
  renameSync(staging, into);
  return join(into, 'package');
}

/** --generator PATH -> the package root it designates. */
function locateGenerator(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UsageError(`--generator ${path}: no such file or directory`);
  if (statSync(abs).isFile()) {
    if (!/\.(tgz|tar\.gz)$/.test(abs)) throw new UsageError(`--generator ${path}: expected a directory or a .tgz made by npm pack`);
    const sum = createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16);
    const into = join(cacheRoot(env), 'tgz', sum);
    if (existsSync(join(into, 'package', 'package.json'))) return join(into, 'package');
    return extractTgz(abs, into);
  }
  for (const cand of [abs, join(abs, 'package'), join(abs, 'node_modules', PACKAGE_NAME)]) if (readPkg(cand)?.name === PACKAGE_NAME) return cand;
  throw new UsageError(
    `--generator ${path}: no ${PACKAGE_NAME} package there (looked for package.json in it, in package/ and in node_modules/${PACKAGE_NAME}/)`,
  );
}

export interface ResolveOptions {
  /** --generator paths, in the order given */
  generatorPaths: string[];
  env?: NodeJS.ProcessEnv;
  /** progress lines (stderr) */
  log: (line: string) => void;
  /** for the error message: the command to suggest, e.g. "check ." */
  retry: string;
  /** suggest running that command with the needed version itself (check: yes; update: no) */
  suggestDirect?: boolean;
}

function npmPack(version: string, root: string, log: (l: string) => void): string | undefined {
  const dest = join(root, version);
  mkdirSync(root, { recursive: true });
  const tmp = mkdtempSync(join(root, `.pack-${version}-`));
  try {
    log(`fetching ${PACKAGE_NAME}@${version} with npm pack into ${dest}`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // --loglevel=error, not --silent: --silent hides the reason of a failure too
    const res = spawnSync(npm, ['pack', `${PACKAGE_NAME}@${version}`, '--pack-destination', tmp, '--loglevel=error'], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    });
    if (res.error || res.status !== 0) {
      log(`npm pack failed: ${npmFailure(res)}`);
      return undefined;
    }
    const tgz = join(tmp, res.stdout.trim().split('\n').pop() ?? '');
    if (!existsSync(tgz)) return undefined;
    return extractTgz(tgz, dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Why `npm pack` failed, in one line: npm's error code and first message, else how it ended. */
export function npmFailure(res: { error?: Error; status: number | null; signal: NodeJS.Signals | null; stderr: string }): string {
  if (res.error) return res.error.message;
  const lines = (res.stderr ?? '').split('\n').map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim());
  const code = lines.map((l) => /^code (\S+)$/.exec(l)?.[1]).find(Boolean);
  const message = lines.find((l) => l !== '' && !/^code \S+$/.test(l) && !/^A complete log of this run/.test(l) && !/^\d{3}$/.test(l));
  if (message) return code ? `${code}: ${message}` : message;
  return res.signal ? `killed by ${res.signal}` : `exit status ${res.status} and no message`;
}

/** Copies unpacked from --generator .tgz files (cache/tgz/<sha256>/package), holding `version`, newest first. */
function cachedTarballCopies(root: string, version: string): string[] {
  const dir = join(root, 'tgz');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((d) => join(dir, d, 'package'))
    .filter((p) => readPkg(p)?.version === version)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs || (a < b ? -1 : 1));
}

/** create-agent-service at exactly `version`, from wherever it can be had (see the top of this file). */
export function resolveVersion(version: string, o: ResolveOptions): GeneratorVersion {
  const env = o.env ?? process.env;
  if (version === VERSION) return runningVersion();
  const found: string[] = [];
  for (const p of o.generatorPaths) {
    const root = locateGenerator(p, env);
    const v = readPkg(root)?.version;
    if (v === version) return installedVersion(root);
    found.push(`${p} is ${v}`);
  }
  const root = cacheRoot(env);
  const cached = join(root, version, 'package');
  if (readPkg(cached)?.version === version) return installedVersion(cached);
  // a tarball given once with --generator (e.g. to update) is found again without it
  const fromTgz = cachedTarballCopies(root, version)[0];
  if (fromTgz) return installedVersion(fromTgz);
  const offline = env.CREATE_AGENT_SERVICE_OFFLINE !== undefined && env.CREATE_AGENT_SERVICE_OFFLINE !== '' && env.CREATE_AGENT_SERVICE_OFFLINE !== '0';
  if (!offline) {
    const fetched = npmPack(version, root, o.log);
    if (fetched && readPkg(fetched)?.version === version) return installedVersion(fetched);
  }
  throw new UsageError(
    [
      `${PACKAGE_NAME} ${version} is needed but not available${offline ? ' (CREATE_AGENT_SERVICE_OFFLINE is set)' : ''}${found.length ? `; ${found.join(', ')}` : ''}. Either:`,
      ...(o.suggestDirect ? [`  npx ${PACKAGE_NAME}@${version} ${o.retry}`, `or fetch it once and point at it:`] : [`fetch it once and point at it:`]),
      `  npm pack ${PACKAGE_NAME}@${version} && npx ${PACKAGE_NAME}@${VERSION} ${o.retry} --generator ${PACKAGE_NAME}-${version}.tgz`,
    ].join('\n'),
  );
}
