/**
 * Post-generation steps, each skippable: git init + first commit (--no-git),
 * uv sync (--no-install). A failing step is reported and does not undo the
 * generated files.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { GenerateFlags, ProjectSpec } from './types.js';
import { VERSION } from './version.js';

export interface StepResult {
  git: 'done' | 'skipped' | 'inside-repo' | 'no-git' | 'failed';
  install: 'done' | 'skipped' | 'no-uv' | 'failed';
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, cmd)));
}

/** Identity and settings that make the first commit independent of the user's git config. */
function gitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    GIT_AUTHOR_NAME: 'create-agent-service',
    GIT_AUTHOR_EMAIL: 'create-agent-service@users.noreply.github.com',
    GIT_COMMITTER_NAME: 'create-agent-service',
    GIT_COMMITTER_EMAIL: 'create-agent-service@users.noreply.github.com',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
  };
}

export async function gitStep(project: ProjectSpec, env: NodeJS.ProcessEnv): Promise<[StepResult['git'], string]> {
  if (!onPath('git', env)) return ['no-git', 'git not found on PATH: skipped git init'];
  const { execa } = await import('execa');
  const e = gitEnv(env);
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
  const { execa } = await import('execa');
  const r = await execa('uv', ['sync', '--frozen'], { cwd: project.dir, env, reject: false, all: true });
  if (r.exitCode === 0) return ['done', 'dependencies installed with uv sync'];
  return ['failed', `uv sync failed (${firstErrorLine(r.all ?? '')}); run \`uv sync\` yourself in the project`];
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

export function nextSteps(project: ProjectSpec, shownDir: string, done: StepResult): string {
  const lines = ['Next steps:', `  cd ${shownDir}`];
  if (done.install !== 'done') lines.push('  uv sync');
  lines.push(`  make run      # start the service on port ${project.answers.port}`, '  make test     # run its tests');
  return lines.join('\n');
}
