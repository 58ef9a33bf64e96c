// Group "servers": the generated service's app (fastapi, minimal observability) under
// each candidate HTTP server, attacked at the connection level and loaded with wrk
// (scripts/bench/servers.py does the measuring). The candidates other than the shipped
// one are installed beside the generated project's locked environment, pinned here;
// that needs PyPI. One worker each, loopback only, every attack bounded.
import fs from 'node:fs';
import path from 'node:path';
import { log, ROOT, run, tail, uvPath } from './lib.mjs';

const PORT_BASE = Number(process.env.BENCH_PORT_BASE || 18500) + 60;
const NAME = 'server-bench';
const PKG = 'server_bench';
const EXTRA = ['granian==2.8.9', 'hypercorn==0.18.0'];

export async function serversGroup({ work, quick }) {
  const dir = path.join(work, 'servers', NAME);
  const uv = uvPath();
  const env = { ...process.env, UV_PYTHON: '3.11', UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  await run('node', ['scripts/build.mjs'], { cwd: ROOT });
  await run('node', [path.join(ROOT, 'bin/create-agent-service.js'), dir, '--yes', '--no-git', '--no-install', '--observability', 'minimal']);
  log('servers: uv sync, then the other candidates beside the lock');
  await run(uv, ['sync', '--frozen', '--no-dev', '-q'], { cwd: dir, env, timeoutMs: 10 * 60_000 });
  await run(uv, ['pip', 'install', '-q', '--python', path.join(dir, '.venv/bin/python'), ...EXTRA], { cwd: dir, env, timeoutMs: 10 * 60_000 });
  const seconds = quick ? 2 : 8;
  const rounds = quick ? 1 : 3;
  const r = await run(
    path.join(dir, '.venv/bin/python'),
    [path.join(ROOT, 'scripts/bench/servers.py'), dir, PKG, String(PORT_BASE), String(seconds), String(rounds)],
    { cwd: dir, env, allowFail: true, timeoutMs: 30 * 60_000 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`servers.py gave no result: ${tail(r.stderr, 10)}`);
  const candidates = JSON.parse(line.slice('BENCH_JSON '.length));
  const shipped = candidates['uvicorn-httptools-bounded']?.chat_rps;
  for (const c of Object.values(candidates)) {
    if (shipped && c.chat_rps) c.chat_rps_ratio = Math.round((c.chat_rps / shipped) * 100) / 100;
  }
  fs.rmSync(path.join(work, 'servers'), { recursive: true, force: true });
  return {
    settings: {
      app: `node bin/create-agent-service.js ${NAME} --yes --observability minimal (fastapi, memory store, fake model); WORKERS=1, LOG_LEVEL=warning`,
      extraPackages: EXTRA,
      load: `wrk -t1 -c32 -d${seconds}s POST /v1/chat, ${rounds} rounds, every candidate in turn in each round; the median`,
      attacks:
        'one 16 MB header; 20 connections x 16 MB of unfinished header (RSS of the process tree); 200 slowloris connections (a header line per 2 s) and 100 idle ones for 20 s; a chunked body that never ends (a chunk per 0.5 s); three malformed requests; SIGTERM with 20 requests of 2 s in flight; SIGTERM with an endless body in flight',
    },
    candidates,
  };
}
