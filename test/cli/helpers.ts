import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'create-agent-service.js');
export const FIXTURE_TEMPLATES = join(ROOT, 'test', 'unit', 'fixtures', 'templates');

export const tmp = (prefix = 'cas-'): string => mkdtempSync(join(tmpdir(), prefix));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (dist) as a real process, non-interactively (stdio are pipes, CI=true). */
export function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; templates?: string } = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? tmpdir(),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: 'true',
      CREATE_AGENT_SERVICE_TEMPLATES: opts.templates ?? FIXTURE_TEMPLATES,
      ...opts.env,
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under dir (relative, sorted) -> sha256 + mode. */
export function treeHashes(dir: string, skip: (rel: string) => boolean = (rel) => rel === '.git' || rel.startsWith('.git/')): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      const rel = relative(dir, abs);
      if (skip(rel)) continue;
      if (e.isDirectory()) walk(abs);
      else out.set(rel, `${createHash('sha256').update(readFileSync(abs)).digest('hex')} ${(statSync(abs).mode & 0o777).toString(8)}`);
    }
  };
  walk(dir);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}
