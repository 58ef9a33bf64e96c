// Group "burst": N streams opened at once against POST /v1/chat/stream, each
// relaying a mock upstream's answer of 50 tokens x 20 ms (scripts/bench/mock_upstream.mjs,
// its own process), for N = 100, 500, 1,000, 2,000: the generated service (default
// preset), the FastAPI + LangGraph peer (graph.astream, scripts/bench/langgraph_app.py),
// a bare FastAPI relay (scripts/bench/hello_app.py) and the mock upstream alone.
// One worker each; every (service, N) on a fresh process.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { log, median, ROOT, round, run, startMockUpstream, startProcess, tail, uvPath, waitHttpOk } from './lib.mjs';
import { LANGGRAPH_ENV_COMMAND, langgraphPython } from './peer_env.mjs';

const PORT_BASE = Number(process.env.BENCH_PORT_BASE || 18500) + 100;
const UPSTREAM_PORT = PORT_BASE;
const TOKENS = 50;
const INTERVAL_MS = 20;
const LEVELS = [100, 500, 1000, 2000];
const QUICK_LEVELS = [100, 500];
const DEADLINE_S = 30;
const NAME = 'agent-bench';
const PKG = 'agent_bench';
const BODY = JSON.stringify({ message: 'hello there, how are you today?' });
const COMPLETIONS_BODY = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'hello there, how are you today?' }] });

function percentile(xs, p) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * One stream: resolves with its outcome and timings (ms from `t0`).
 * outcome: done | refused (an HTTP status, e.g. 503) | closed (the connection closed
 * before any response) | error (an error event, a broken stream) | timeout (deadline).
 */
function openStream(url, body, t0, agent, pending) {
  return new Promise((resolve) => {
    const r = { outcome: null, status: 0, firstTokenMs: null, endMs: null, tokens: 0 };
    let settled = false;
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      r.outcome = outcome;
      r.endMs = performance.now() - t0;
      pending.delete(req);
      resolve(r);
    };
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), accept: 'text/event-stream' },
    });
    pending.set(req, () => {
      finish('timeout');
      req.destroy();
    });
    req.on('error', () => finish(r.status ? 'error' : 'closed'));
    req.on('response', (res) => {
      r.status = res.statusCode;
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => finish(res.statusCode === 503 || res.statusCode === 429 ? 'refused' : 'error'));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buf += d;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          let token = event === 'token';
          if (event === 'message' && data === '[DONE]') return finish('done');
          if (event === 'message' && data) {
            try {
              token = Boolean(JSON.parse(data).choices?.[0]?.delta?.content);
            } catch {
              return finish('error');
            }
          }
          if (token) {
            r.tokens += 1;
            r.firstTokenMs ??= performance.now() - t0;
          } else if (event === 'done') return finish('done');
          else if (event === 'error') return finish('error');
        }
      });
      res.on('end', () => finish('error'));
      res.on('error', () => finish('error'));
    });
    req.end(body);
  });
}

/** N streams opened at once; the summary of how they ended. */
async function burst(url, body, n) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const pending = new Map();
  const t0 = performance.now();
  const timer = setTimeout(() => {
    for (const stop of [...pending.values()]) stop();
  }, DEADLINE_S * 1000);
  const rs = await Promise.all(Array.from({ length: n }, () => openStream(url, body, t0, agent, pending)));
  clearTimeout(timer);
  agent.destroy();
  const by = (o) => rs.filter((r) => r.outcome === o);
  const done = by('done');
  const ends = done.map((r) => r.endMs);
  const ttft = done.map((r) => r.firstTokenMs).filter((x) => x !== null);
  const lastDone = ends.length ? Math.max(...ends) : null;
  const refused = by('refused');
  return {
    n,
    done: done.length,
    refused: refused.length,
    closed: by('closed').length,
    errors: by('error').length,
    timeouts: by('timeout').length,
    completedShare: round(done.length / n, 3),
    streamsPerSecond: lastDone ? round(done.length / (lastDone / 1000), 1) : 0,
    lastDoneS: lastDone ? round(lastDone / 1000, 2) : null,
    ttftP50ms: round(percentile(ttft, 50), 1),
    ttftP99ms: round(percentile(ttft, 99), 1),
    durationP50ms: round(percentile(ends, 50), 1),
    durationP99ms: round(percentile(ends, 99), 1),
    refusedP99ms: round(
      percentile(
        refused.map((r) => r.endMs),
        99,
      ),
      1,
    ),
    tokensMedian: median(done.map((r) => r.tokens)),
    // how far every stream got, the unfinished ones too
    startedStreams: rs.filter((r) => r.firstTokenMs !== null).length,
    tokensMedianAll: median(rs.map((r) => r.tokens)),
  };
}

export async function burstGroup({ work, quick }) {
  const w = path.join(work, 'burst');
  fs.mkdirSync(w, { recursive: true });
  const uv = uvPath();
  const levels = quick ? QUICK_LEVELS : LEVELS;
  const baseEnv = { ...process.env, UV_PYTHON: '3.11', UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  for (const k of Object.keys(baseEnv)) if (/^(OTEL_|PROMETHEUS_|UV_PROJECT|VIRTUAL_ENV|LLM_)/.test(k)) delete baseEnv[k];
  const upstreamUrl = `http://127.0.0.1:${UPSTREAM_PORT}/v1`;
  const llmEnv = { LLM_BASE_URL: upstreamUrl, LLM_API_KEY: 'bench', LLM_MODEL: 'bench' };
  const result = {
    settings: {
      levels,
      deadlineSeconds: DEADLINE_S,
      upstream: `scripts/bench/mock_upstream.mjs: ${TOKENS} tokens, one every ${INTERVAL_MS} ms (an answer takes ${(TOKENS * INTERVAL_MS) / 1000} s), its own process`,
      client: `N POST /v1/chat/stream opened at once from the bench process (one connection each), body ${BODY}; a stream is done at its done event ([DONE] for the upstream alone)`,
      workers: 1,
    },
    configs: {},
    skipped: {},
    runs: {},
    notes: [],
  };

  log('burst: generating the default preset and its environment');
  await run('node', ['scripts/build.mjs'], { cwd: ROOT });
  const dir = path.join(w, 'ours', NAME);
  await run('node', [path.join(ROOT, 'bin/create-agent-service.js'), dir, '--yes', '--no-git', '--no-install']);
  await run(uv, ['sync', '--frozen', '--no-dev', '-q'], { cwd: dir, env: baseEnv, timeoutMs: 10 * 60_000 });
  const configs = [
    {
      id: 'ours',
      cwd: dir,
      cmd: [uv, 'run', '--no-sync', 'python', '-m', PKG],
      env: { ...baseEnv, ...llmEnv, ENVIRONMENT: 'development', WORKERS: '1', PROMETHEUS_MULTIPROC_DIR: path.join(w, 'prom') },
      display: `node bin/create-agent-service.js ${NAME} --yes --no-git --no-install && cd ${NAME} && uv sync --frozen --no-dev && LLM_BASE_URL=${upstreamUrl} LLM_API_KEY=bench LLM_MODEL=bench WORKERS=1 uv run --no-sync python -m ${PKG}`,
    },
    {
      id: 'hello',
      cwd: w,
      cmd: [uv, 'run', '--no-sync', '--project', dir, 'python', path.join(ROOT, 'scripts/bench/hello_app.py')],
      env: { ...baseEnv, ...llmEnv },
      display: `LLM_BASE_URL=${upstreamUrl} uv run --no-sync --project ${NAME} python scripts/bench/hello_app.py`,
    },
  ];
  try {
    const python = await langgraphPython();
    configs.push({
      id: 'langgraph',
      cwd: w,
      cmd: [python, path.join(ROOT, 'scripts/bench/langgraph_app.py')],
      env: { ...baseEnv, ...llmEnv },
      display: `${LANGGRAPH_ENV_COMMAND} && LLM_BASE_URL=${upstreamUrl} .cache/bench-langgraph/<hash>/bin/python scripts/bench/langgraph_app.py`,
    });
  } catch (e) {
    result.skipped.langgraph = `no LangGraph environment: ${String(e.message || e).slice(0, 300)}`;
  }
  for (const c of configs) result.configs[c.id] = { command: c.display };
  result.configs.upstream = { command: `node scripts/bench/mock_upstream.mjs ${UPSTREAM_PORT} ${TOKENS} ${INTERVAL_MS} (the client reads it directly)` };

  const upstream = await startMockUpstream({ port: UPSTREAM_PORT, tokens: TOKENS, intervalMs: INTERVAL_MS, logFile: path.join(w, 'upstream.log') });
  let port = PORT_BASE;
  const record = (id, r) => {
    result.runs[id] ??= [];
    result.runs[id].push(r);
  };
  try {
    for (const n of levels) {
      log(`burst: the mock upstream alone, N = ${n}`);
      record('upstream', await burst(`${upstreamUrl}/chat/completions`, COMPLETIONS_BODY, n));
      for (const c of configs) {
        port += 1;
        const logFile = path.join(w, `${c.id}-${n}.log`);
        const proc = startProcess(c.cmd[0], c.cmd.slice(1), { cwd: c.cwd, env: { ...c.env, HOST: '127.0.0.1', PORT: String(port) }, logFile });
        try {
          if (!(await waitHttpOk(`http://127.0.0.1:${port}/health`, 90_000, proc.isAlive)))
            throw new Error(`did not answer /health: ${tail(fs.readFileSync(logFile, 'utf8'), 5)}`);
          const url = `http://127.0.0.1:${port}/v1/chat/stream`;
          const probe = await burst(url, BODY, 1);
          if (probe.done !== 1) throw new Error(`one stream did not complete: ${JSON.stringify(probe)}; ${tail(fs.readFileSync(logFile, 'utf8'), 5)}`);
          log(`burst: ${c.id}, N = ${n}`);
          const r = await burst(url, BODY, n);
          log(
            `burst: ${c.id}, N = ${n}: ${r.done} done, ${r.refused} refused, ${r.closed} closed, ${r.errors} errors, ${r.timeouts} timed out; ${r.streamsPerSecond} streams/s`,
          );
          record(c.id, r);
        } catch (e) {
          result.skipped[`${c.id} N=${n}`] = String(e.message || e).slice(0, 400);
          log(`burst: ${c.id}, N = ${n} failed: ${result.skipped[`${c.id} N=${n}`]}`);
        } finally {
          await proc.stop();
        }
      }
    }
  } finally {
    await upstream.stop();
  }
  // ours ÷ the peer, per N (above 1: ours completes more streams per second)
  result.vsLanggraph = {};
  for (const r of result.runs.ours ?? []) {
    const peer = result.runs.langgraph?.find((x) => x.n === r.n);
    if (peer?.streamsPerSecond) result.vsLanggraph[r.n] = round(r.streamsPerSecond / peer.streamsPerSecond, 2);
  }
  result.notes.push(
    `Every answer takes ${(TOKENS * INTERVAL_MS) / 1000} s upstream, so a relay that keeps up completes N streams in about ${(TOKENS * INTERVAL_MS) / 1000} s (N streams/s); streams/s is done streams ÷ the time the last one finished.`,
    `refused: an HTTP 503/429 answer; closed: the connection closed before any answer (the generated service closes connections past MAX_CONNECTIONS, 1000 by default, at once); timeout: still running after ${DEADLINE_S} s.`,
    "The seeds' naive endpoint is not in this test: its time.sleep blocks the event loop, so it serves one stream at a time.",
  );
  return result;
}
