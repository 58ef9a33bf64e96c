// The bench-only Python environments: the FastAPI + LangGraph peer
// (scripts/bench/langgraph_app.py) and the relay's upstream clients
// (scripts/bench/relay_clients.py). Each is created by uv from its pinned, hashed
// scripts/bench/<name>/requirements.txt into .cache/bench-<name>/<hash>/, reused
// while that file is unchanged. Never part of a generated project.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { log, pythonPath, ROOT, run, tail, uvPath } from './lib.mjs';

/** Path of the named environment's python, creating the environment when needed. */
async function pinnedPython(name) {
  const requirements = path.join(ROOT, 'scripts/bench', name, 'requirements.txt');
  const hash = crypto.createHash('sha256').update(fs.readFileSync(requirements)).digest('hex').slice(0, 16);
  const venv = path.join(ROOT, '.cache', `bench-${name}`, hash);
  const python = path.join(venv, 'bin', 'python');
  const done = path.join(venv, '.complete');
  if (fs.existsSync(done)) return python;
  log(`bench: creating the ${name} environment ${path.relative(ROOT, venv)}`);
  fs.rmSync(venv, { recursive: true, force: true });
  const uv = uvPath();
  const env = { ...process.env, UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  let r = await run(uv, ['venv', '-q', '--python', pythonPath('3.11') ?? 'python3.11', venv], { env, allowFail: true });
  if (r.code !== 0) throw new Error(`uv venv failed: ${tail(r.stderr, 5)}`);
  r = await run(uv, ['pip', 'sync', '-q', '--require-hashes', '--python', python, requirements], { env, allowFail: true, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw new Error(`uv pip sync ${path.relative(ROOT, requirements)} failed: ${tail(r.stderr, 5)}`);
  fs.writeFileSync(done, '');
  return python;
}

export const langgraphPython = () => pinnedPython('langgraph');
export const relayClientsPython = () => pinnedPython('relay_clients');

export const RELAY_CLIENTS_ENV_COMMAND =
  'uv venv -p 3.11 .cache/bench-relay_clients/<hash> && uv pip sync --require-hashes scripts/bench/relay_clients/requirements.txt';
export const LANGGRAPH_ENV_COMMAND = 'uv venv -p 3.11 .cache/bench-langgraph/<hash> && uv pip sync --require-hashes scripts/bench/langgraph/requirements.txt';
