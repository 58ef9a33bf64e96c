// Group "budgets": what the budgets per API key cost on /v1/chat (issue 21).
// The default preset (FastAPI, prometheus) with the fake model, one worker, API
// keys on in every configuration; side by side, interleaved in each round:
//   keys             API_KEYS only (the baseline: authentication, no key budget)
//   keyBudget        + KEY_TOKEN_BUDGET_DAILY (never reached): a counter read in
//                    admit() and an increment when the turn ends, per request
//   keyBudgetPriced  + LLM_PRICES for the fake model: the cost of each turn too
// once with the memory store and once with Redis (a round trip per counter),
// when scripts/services.sh can start Redis. Besides req/s, the service's CPU
// time per request (utime + stime of its process tree, /proc): on a shared
// machine the throughput of back-to-back runs drifts with everyone else's
// load, while the CPU a request takes does not, and a single CPU-bound worker's
// throughput is the inverse of it.
import fs from 'node:fs';
import path from 'node:path';
import { cpuMeter, log, median, ROOT, round, run, startProcess, tail, uvPath, waitHttpOk } from './lib.mjs';

const PORT_BASE = Number(process.env.BENCH_PORT_BASE || 18500) + 60;
const NAME = 'budget-bench';
const PKG = 'budget_bench';
const CHAT_BODY = JSON.stringify({ message: 'hello there, how are you today?' });
const CONNECTIONS = 32;
const BENCH_KEY = `bench-key-${process.pid}-${Date.now()}`;
const CONFIGS = {
  keys: {},
  keyBudget: { KEY_TOKEN_BUDGET_DAILY: String(10 ** 15) },
  keyBudgetPriced: {
    KEY_TOKEN_BUDGET_DAILY: String(10 ** 15),
    LLM_PRICES: '{"fake": {"input": 0.15, "output": 0.6, "cached_input": 0.075}}',
  },
};

async function wrk(url, seconds) {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '-s', path.join(ROOT, 'scripts/bench/wrk-report.lua'), url];
  const env = { ...process.env, BENCH_METHOD: 'POST', BENCH_BODY: CHAT_BODY, BENCH_AUTHORIZATION: `Bearer ${BENCH_KEY}` };
  const r = await run('wrk', args, { env, allowFail: true, timeoutMs: (seconds + 30) * 1000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk gave no result for ${url}: ${tail(r.stdout + r.stderr, 5)}`);
  const j = JSON.parse(line.slice('BENCH_JSON '.length));
  return { rps: round(j.rps, 1), p50ms: round(j.p50_us / 1000, 2), p99ms: round(j.p99_us / 1000, 2), non2xx: j.non2xx, requests: j.requests };
}

async function redisUrl() {
  const start = await run('bash', [path.join(ROOT, 'scripts/services.sh'), 'start', 'redis'], { allowFail: true, timeoutMs: 120_000 });
  if (start.code !== 0) return null;
  const env = await run('bash', [path.join(ROOT, 'scripts/services.sh'), 'env', 'redis'], { allowFail: true });
  const m = /REDIS_URL=(\S+)/.exec(env.stdout);
  return m ? m[1] : null;
}

export async function budgetsGroup({ work, quick }) {
  const w = path.join(work, 'budgets');
  fs.mkdirSync(w, { recursive: true });
  const uv = uvPath();
  const seconds = quick ? 2 : 5;
  const rounds = quick ? 1 : 5;
  const baseEnv = { ...process.env, UV_PYTHON: '3.11', UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  for (const k of Object.keys(baseEnv)) if (/^(OTEL_|PROMETHEUS_|UV_PROJECT|VIRTUAL_ENV)/.test(k)) delete baseEnv[k];
  await run('node', ['scripts/build.mjs'], { cwd: ROOT });
  const result = {
    settings: {
      cpu: 'utime + stime of the service process tree over each measured run (/proc/<pid>/stat), divided by the requests served',
      load: `wrk -t1 -c${CONNECTIONS} -d${seconds}s --timeout 10s -s scripts/bench/wrk-report.lua, Authorization: Bearer <key> (closed loop, loopback)`,
      rounds,
      chatBody: CHAT_BODY,
      serviceEnv:
        'HOST=127.0.0.1 PORT=<port> WORKERS=1 ENVIRONMENT=development API_KEYS=<one key> LOG_LEVEL=info, the fake model without latency; the configurations add the variables below',
      configs: CONFIGS,
    },
    stores: {},
    skipped: {},
  };
  const stores = { memory: {} };
  const redis = await redisUrl();
  if (redis) stores.redis = { SESSION_STORE: 'redis', REDIS_URL: redis };
  else result.skipped.redis = 'scripts/services.sh could not start Redis';

  let port = PORT_BASE;
  for (const [store, storeEnv] of Object.entries(stores)) {
    const dir = path.join(w, store, NAME);
    await run('node', [path.join(ROOT, 'bin/create-agent-service.js'), dir, '--yes', '--no-git', '--no-install', '--store', store]);
    log(`budgets: ${store}: uv sync`);
    await run(uv, ['sync', '--frozen', '--no-dev', '-q'], { cwd: dir, env: baseEnv, timeoutMs: 10 * 60_000 });
    // Every configuration runs at once (idle while another is under load), so the
    // rounds interleave them without restarts.
    const services = [];
    try {
      for (const [id, extra] of Object.entries(CONFIGS)) {
        port += 1;
        const env = {
          ...baseEnv,
          ...storeEnv,
          ...extra,
          HOST: '127.0.0.1',
          PORT: String(port),
          WORKERS: '1',
          ENVIRONMENT: 'development',
          API_KEYS: BENCH_KEY,
          PROMETHEUS_MULTIPROC_DIR: path.join(w, `prom-${store}-${id}`),
        };
        const logFile = path.join(w, `${store}-${id}.log`);
        const proc = startProcess(uv, ['run', '--no-sync', 'python', '-m', PKG], { cwd: dir, env, logFile });
        services.push({ id, proc, base: `http://127.0.0.1:${port}` });
        if (!(await waitHttpOk(`http://127.0.0.1:${port}/health`, 60_000, proc.isAlive)))
          throw new Error(`${store}/${id} did not answer /health: ${tail(fs.readFileSync(logFile, 'utf8'), 8)}`);
      }
      const samples = Object.fromEntries(services.map((s) => [s.id, []]));
      for (let r = 0; r < rounds; r++) {
        for (const s of services) {
          log(`budgets: ${store}: round ${r + 1}/${rounds}: ${s.id}, ${seconds} s`);
          await wrk(`${s.base}/v1/chat`, 1);
          const cpu = cpuMeter(s.proc.pid);
          const sample = await wrk(`${s.base}/v1/chat`, seconds);
          sample.cpuUsPerRequest = cpu(sample.requests);
          samples[s.id].push(sample);
        }
      }
      // every request was admitted, and the budget really counted them
      for (const [id, rs] of Object.entries(samples)) {
        const bad = rs.reduce((n, x) => n + x.non2xx, 0);
        if (bad) throw new Error(`${store}/${id}: ${bad} responses were not 2xx`);
      }
      const usage = await fetch(`${services[1].base}/v1/usage`, { headers: { authorization: `Bearer ${BENCH_KEY}` } });
      const used = (await usage.json()).key?.used_tokens;
      if (!(used > 0)) throw new Error(`${store}/keyBudget: /v1/usage shows no tokens counted (${used})`);
      const byConfig = {};
      for (const [id, rs] of Object.entries(samples)) {
        byConfig[id] = {
          rps: round(median(rs.map((x) => x.rps)), 1),
          p50ms: round(median(rs.map((x) => x.p50ms)), 2),
          p99ms: round(median(rs.map((x) => x.p99ms)), 2),
          cpuUsPerRequest: round(median(rs.map((x) => x.cpuUsPerRequest)), 1),
          non2xx: rs.reduce((n, x) => n + x.non2xx, 0),
          rounds: rs,
        };
      }
      // The cost from the ratio of each round (the configurations ran back to back), median over rounds.
      const costPct = (id) => round(median(samples[id].map((x, i) => (1 - x.rps / samples.keys[i].rps) * 100)), 1);
      // The throughput a CPU-bound worker loses: 1 - (CPU per request, baseline / configuration).
      const cpuCostPct = (id) => round(median(samples[id].map((x, i) => (1 - samples.keys[i].cpuUsPerRequest / x.cpuUsPerRequest) * 100)), 1);
      result.stores[store] = {
        configs: byConfig,
        keyBudgetCostPct: costPct('keyBudget'),
        keyBudgetPricedCostPct: costPct('keyBudgetPriced'),
        keyBudgetCpuCostPct: cpuCostPct('keyBudget'),
        keyBudgetPricedCpuCostPct: cpuCostPct('keyBudgetPriced'),
        keyBudgetUsedTokens: used,
      };
    } finally {
      for (const s of services) await s.proc.stop();
    }
  }
  return result;
}
