/**
 * Post-generation steps, each skippable: git init + first commit (--no-git),
 * uv sync (--no-install). A failing step is reported and does not undo the
 * generated files.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Cancelled } from './errors.js';
import type { GenerateFlags, ProjectSpec } from './types.js';
import { VERSION } from './version.js';

export interface StepResult {
  git: 'done' | 'skipped' | 'inside-repo' | 'no-git' | 'failed';
  install: 'done' | 'skipped' | 'no-uv' | 'failed';
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, cmd)));
}

export interface GitIdentity {
  name: string;
  email: string;
}

/** Used for the first commit only when the user has no git identity configured. */
export const GENERATOR_IDENTITY: GitIdentity = { name: 'create-agent-service', email: 'create-agent-service@users.noreply.github.com' };

/**
 * Settings that make the first commit independent of the user's git config
 * (no system config, hooks or signing), authored and committed by `who`.
 */
export function gitEnv(env: NodeJS.ProcessEnv, who: GitIdentity = GENERATOR_IDENTITY): NodeJS.ProcessEnv {
  return {
    ...env,
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** The user's own git identity (user.name and user.email from their config, or GIT_AUTHOR_*), when both are set. */
async function userIdentity(cwd: string, env: NodeJS.ProcessEnv): Promise<GitIdentity | undefined> {
  const { execa } = await import('execa');
  const get = async (key: string, fallback: string | undefined) => {
    if (fallback) return fallback;
    const r = await execa('git', ['config', '--get', key], { cwd, env: { ...env, GIT_TERMINAL_PROMPT: '0' }, reject: false });
    return r.exitCode === 0 ? r.stdout.trim() : '';
  };
  const name = await get('user.name', env.GIT_AUTHOR_NAME);
  const email = await get('user.email', env.GIT_AUTHOR_EMAIL);
  return name && email ? { name, email } : undefined;
}

export async function gitStep(project: ProjectSpec, env: NodeJS.ProcessEnv): Promise<[StepResult['git'], string]> {
  if (!onPath('git', env)) return ['no-git', 'git not found on PATH: skipped git init'];
  const { execa } = await import('execa');
  const e = gitEnv(env, (await userIdentity(project.dir, env)) ?? GENERATOR_IDENTITY);
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd: project.dir, env: e, reject: false });
  if (inside.exitCode === 0 && inside.stdout.trim() === 'true') return ['inside-repo', 'already inside a git work tree: skipped git init'];
  try {
    const c = ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', '-c', 'core.autocrlf=false'];
    await execa('git', [...c, 'init', '-q'], { cwd: project.dir, env: e });
    await execa('git', [...c, 'add', '-A'], { cwd: project.dir, env: e });
    await execa('git', [...c, 'commit', '-q', '--no-verify', '-m', `Initial commit from create-agent-service ${VERSION}`], { cwd: project.dir, env: e });
    return ['done', 'git repository initialised with a first commit'];
  } catch (err) {
    return ['failed', `git init failed: ${((err as { shortMessage?: string }).shortMessage ?? (err as Error).message).split('\n')[0]}`];
  }
}

export async function installStep(project: ProjectSpec, env: NodeJS.ProcessEnv): Promise<[StepResult['install'], string]> {
  if (!onPath('uv', env)) return ['no-uv', 'uv not found on PATH: install it (https://docs.astral.sh/uv/getting-started/installation/), then run `uv sync`'];
  // Ctrl-C reaches uv too (same process group); a SIGINT sent to this process alone is passed on.
  // Either way the files stay and the run ends as cancelled, saying what is left to do. The
  // handler is in place before uv starts, so an early Ctrl-C cannot kill the process silently.
  let interrupted = false;
  let child: { kill(signal: NodeJS.Signals): unknown } | undefined;
  const onSigint = (): void => {
    interrupted = true;
    child?.kill('SIGINT');
  };
  process.on('SIGINT', onSigint);
  let r: { exitCode?: number; all?: unknown } | undefined;
  try {
    const { execa } = await import('execa');
    if (!interrupted) {
      const running = execa('uv', ['sync', '--frozen'], { cwd: project.dir, env, reject: false, all: true });
      child = running;
      r = await running;
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (interrupted) throw new Cancelled(false, `the files are written in ${project.dir}, but the dependencies are not installed: run \`uv sync\` there`);
  if (r!.exitCode === 0) return ['done', 'dependencies installed with uv sync'];
  return ['failed', `uv sync failed (${firstErrorLine(String(r!.all ?? ''))}); run \`uv sync\` yourself in the project`];
}

/** The line of a tool's output that says what went wrong: the first error line, else the first line. */
export function firstErrorLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  const line = lines.find((l) => /error|not found|no interpreter|failed/i.test(l)) ?? lines[0] ?? 'no output';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** Non-interactive: run the steps, report each on one line. */
export async function postGenerate(project: ProjectSpec, f: GenerateFlags, log: (line: string) => void): Promise<StepResult> {
  const result: StepResult = { git: 'skipped', install: 'skipped' };
  if (f.git) {
    const [s, msg] = await gitStep(project, f.io.env);
    result.git = s;
    log(msg);
  }
  if (f.install) {
    const [s, msg] = await installStep(project, f.io.env);
    result.install = s;
    log(msg);
  }
  return result;
}

/** `dir` as one POSIX shell word: as is when it has no special characters, else single-quoted. */
export function shellWord(dir: string): string {
  if (dir.startsWith('-')) dir = `./${dir}`;
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(dir) ? dir : `'${dir.replace(/'/g, `'\\''`)}'`;
}

export function nextSteps(project: ProjectSpec, shownDir: string, done: StepResult): string {
  const lines = ['Next steps:'];
  if (shownDir !== '.') lines.push(`  cd ${shellWord(shownDir)}`);
  if (done.install !== 'done') lines.push('  uv sync');
  lines.push(`  make run      # start the service on port ${project.answers.port}`, '  make test     # run its tests');
  return lines.join('\n');
}
