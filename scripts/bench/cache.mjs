// Group "cache": the response cache (RESPONSE_CACHE_TTL_SECONDS) on and off, side by
// side, against a local OpenAI-compatible model endpoint that answers after 50 ms
// and counts its calls. The workload is first turns only (no session_id), half of
// them repeats of an earlier question; the same sequence for both settings, the
// settings interleaved over the rounds. The generated default project (FastAPI,
// prometheus, memory store), one worker, as a process (uv run, UV_PYTHON=3.11).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { log, median, ROOT, round, run, startProcess, tail, uvPath, waitHttpOk } from './lib.mjs';

const PORT_BASE = Number(process.env.BENCH_PORT_BASE || 18500) + 70;
const MODEL_PORT = PORT_BASE + 9;
const NAME = 'cache-bench';
const PKG = 'cache_bench';
const MODEL_LATENCY_MS = 50;
const CONCURRENCY = 8;
// A question is repeated this many requests after it was first asked: more than
// CONCURRENCY, so its first answer is in the cache when the repeat comes.
const REPEAT_DISTANCE = 32;
const TTL_SECONDS = 3600;

/** An OpenAI-compatible endpoint answering every call after MODEL_LATENCY_MS. */
function startModel() {
  const state = { calls: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.calls += 1;
      setTimeout(() => {
        const body = JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: 'A fine answer to that question.' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 40, completion_tokens: 8, total_tokens: 48 },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }, MODEL_LATENCY_MS);
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(MODEL_PORT, '127.0.0.1', () => resolve({ state, close: () => new Promise((r) => server.close(() => r())) }));
  });
}

/** 2 × distinct first-turn messages: each distinct one asked once, then again at least REPEAT_DISTANCE requests later. */
export function workload(distinct) {
  const question = (i) => `Question number ${i}: what does the service do with it?`;
  const sequence = [];
  for (let i = 0; i < distinct + REPEAT_DISTANCE; i++) {
    if (i < distinct) sequence.push({ message: question(i), repeat: false });
    const earlier = i - REPEAT_DISTANCE;
    if (earlier >= 0) sequence.push({ message: question(earlier), repeat: true });
  }
  return sequence;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url, body) {
  return new Promise((resolve) => {
    const data = Buffer.from(JSON.stringify(body));
    const t0 = process.hrtime.bigint();
    const req = http.request(
      url,
      { method: 'POST', agent, timeout: 30_000, headers: { 'content-type': 'application/json', 'content-length': data.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    req.end(data);
  });
}

/** The sequence with CONCURRENCY requests in flight; each request's latency. */
async function drive(base, sequence) {
  const results = new Array(sequence.length);
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < sequence.length) {
        const i = next++;
        results[i] = await post(`${base}/v1/chat`, { message: sequence[i].message });
      }
    }),
  );
  return { results, seconds: (Date.now() - t0) / 1000 };
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : undefined;
}

function getText(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(''));
  });
}

function cacheLookups(metricsText) {
  const get = (result) => Number(new RegExp(`^agent_response_cache_lookups_total\\{result="${result}"\\} (\\S+)$`, 'm').exec(metricsText)?.[1] ?? 0);
  return { hit: get('hit'), miss: get('miss') };
}

export async function cacheGroup({ work, quick }) {
  const dir = path.join(work, 'cache', NAME);
  const uv = uvPath();
  const env = { ...process.env, UV_PYTHON: '3.11', UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  for (const k of Object.keys(env)) if (/^(OTEL_|PROMETHEUS_|UV_PROJECT|VIRTUAL_ENV)/.test(k)) delete env[k];
  await run('node', ['scripts/build.mjs'], { cwd: ROOT });
  await run('node', [path.join(ROOT, 'bin/create-agent-service.js'), dir, '--yes', '--no-git', '--no-install']);
  log('cache: uv sync');
  await run(uv, ['sync', '--frozen', '--no-dev', '-q'], { cwd: dir, env, timeoutMs: 10 * 60_000 });
  const distinct = quick ? 60 : 300;
  const rounds = quick ? 1 : 3;
  const sequence = workload(distinct);
  const model = await startModel();
  const samples = { off: [], on: [] };
  let port = PORT_BASE;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const setting of ['off', 'on']) {
        port += 1;
        const logFile = path.join(work, `cache-${setting}-${r}.log`);
        const serviceEnv = {
          ...env,
          HOST: '127.0.0.1',
          PORT: String(port),
          WORKERS: '1',
          LOG_LEVEL: 'warning',
          ENVIRONMENT: 'development',
          LLM_BASE_URL: `http://127.0.0.1:${MODEL_PORT}/v1`,
          LLM_API_KEY: 'bench-model-key',
          LLM_MODEL: 'bench-model',
          RESPONSE_CACHE_TTL_SECONDS: setting === 'on' ? String(TTL_SECONDS) : '0',
          PROMETHEUS_MULTIPROC_DIR: path.join(work, `cache-prom-${setting}-${r}`),
        };
        const proc = startProcess(uv, ['run', '--no-sync', 'python', '-m', PKG], { cwd: dir, env: serviceEnv, logFile });
        try {
          const base = `http://127.0.0.1:${port}`;
          if (!(await waitHttpOk(`${base}/health`, 60_000, proc.isAlive))) {
            throw new Error(`the service did not answer /health: ${tail(fs.readFileSync(logFile, 'utf8'), 8)}`);
          }
          log(`cache: round ${r + 1}/${rounds}: cache ${setting}, ${sequence.length} first turns`);
          // Warm-up turns, not measured: imports, the first connections.
          await drive(
            base,
            Array.from({ length: 2 * CONCURRENCY }, (_, i) => ({ message: `warm-up turn ${i}`, repeat: false })),
          );
          const callsBefore = model.state.calls;
          const lookupsBefore = cacheLookups(await getText(`${base}/metrics`));
          const { results, seconds } = await drive(base, sequence);
          const failed = results.filter((x) => x.status !== 200).length;
          if (failed) throw new Error(`${failed} of ${results.length} turns failed (cache ${setting})`);
          // The p-th percentile latency of the turns `pick` selects.
          const pct = (pick, p) =>
            round(
              percentile(
                results.filter((_, i) => pick(sequence[i])).map((x) => x.ms),
                p,
              ),
              2,
            );
          const all = () => true;
          const metrics = await getText(`${base}/metrics`);
          samples[setting].push({
            upstreamCalls: model.state.calls - callsBefore,
            turns: results.length,
            p50ms: pct(all, 50),
            p90ms: pct(all, 90),
            firstAskedP50ms: pct((q) => !q.repeat, 50),
            repeatedP50ms: pct((q) => q.repeat, 50),
            turnsPerSecond: round(results.length / seconds, 1),
            lookups: {
              hit: cacheLookups(metrics).hit - lookupsBefore.hit,
              miss: cacheLookups(metrics).miss - lookupsBefore.miss,
            },
          });
        } finally {
          await proc.stop();
        }
      }
    }
  } finally {
    await model.close();
    agent.destroy();
  }
  const summary = {};
  for (const [setting, rs] of Object.entries(samples)) {
    const m = (k) => round(median(rs.map((x) => x[k])), 2);
    summary[setting] = {
      upstreamCalls: m('upstreamCalls'),
      turns: rs[0]?.turns,
      p50ms: m('p50ms'),
      p90ms: m('p90ms'),
      firstAskedP50ms: m('firstAskedP50ms'),
      repeatedP50ms: m('repeatedP50ms'),
      turnsPerSecond: m('turnsPerSecond'),
      lookups: rs.at(-1)?.lookups,
      rounds: rs,
    };
  }
  fs.rmSync(path.join(work, 'cache'), { recursive: true, force: true });
  return {
    settings: {
      app: `node bin/create-agent-service.js ${NAME} --yes (fastapi, prometheus, memory store); WORKERS=1, LOG_LEVEL=warning; RESPONSE_CACHE_TTL_SECONDS=0 (off) or ${TTL_SECONDS} (on)`,
      model: `a local OpenAI-compatible endpoint (LLM_BASE_URL on loopback) answering every call after ${MODEL_LATENCY_MS} ms, counting its calls`,
      workload: `${sequence.length} first turns (no session_id): ${distinct} distinct questions, each asked a second time at least ${REPEAT_DISTANCE} requests after the first (half the turns repeat), after ${2 * CONCURRENCY} warm-up turns; ${CONCURRENCY} in flight; ${rounds} round(s), off and on interleaved; medians`,
    },
    summary,
  };
}
