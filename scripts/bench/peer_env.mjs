// The bench-only Python environment of the FastAPI + LangGraph peer
// (scripts/bench/langgraph_app.py): created by uv from the pinned, hashed
// scripts/bench/langgraph/requirements.txt into .cache/bench-langgraph/<hash>/,
// reused while that file is unchanged. Never part of a generated project.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { log, pythonPath, ROOT, run, tail, uvPath } from './lib.mjs';

const REQUIREMENTS = path.join(ROOT, 'scripts/bench/langgraph/requirements.txt');

/** Path of the environment's python, creating the environment when needed. */
export async function langgraphPython() {
  const hash = crypto.createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex').slice(0, 16);
  const venv = path.join(ROOT, '.cache', 'bench-langgraph', hash);
  const python = path.join(venv, 'bin', 'python');
  const done = path.join(venv, '.complete');
  if (fs.existsSync(done)) return python;
  log(`peer: creating the LangGraph environment ${path.relative(ROOT, venv)}`);
  fs.rmSync(venv, { recursive: true, force: true });
  const uv = uvPath();
  const env = { ...process.env, UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  let r = await run(uv, ['venv', '-q', '--python', pythonPath('3.11') ?? 'python3.11', venv], { env, allowFail: true });
  if (r.code !== 0) throw new Error(`uv venv failed: ${tail(r.stderr, 5)}`);
  r = await run(uv, ['pip', 'sync', '-q', '--require-hashes', '--python', python, REQUIREMENTS], { env, allowFail: true, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw new Error(`uv pip sync ${path.relative(ROOT, REQUIREMENTS)} failed: ${tail(r.stderr, 5)}`);
  fs.writeFileSync(done, '');
  return python;
}

export const LANGGRAPH_ENV_COMMAND = 'uv venv -p 3.11 .cache/bench-langgraph/<hash> && uv pip sync --require-hashes scripts/bench/langgraph/requirements.txt';
