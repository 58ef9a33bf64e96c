// Group "service": throughput and p50/p99 of /health and /v1/chat (fake model)
// under a bounded loopback load (wrk), for each framework x observability
// stack, against a bare FastAPI app and the seeds' naive blocking endpoint.
// Services run as processes (uv run, UV_PYTHON=3.11), one worker each.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cpuMeter, httpPostJson, log, median, ROOT, round, run, startProcess, tail, uvPath, waitHttpOk } from './lib.mjs';
import { LANGGRAPH_ENV_COMMAND, langgraphPython } from './peer_env.mjs';

const PORT_BASE = Number(process.env.BENCH_PORT_BASE || 18500);
const SINK_PORT = PORT_BASE + 90;
const NAME = 'agent-bench';
const PKG = 'agent_bench';
const FRAMEWORKS = ['fastapi', 'litestar'];
const STACKS = ['minimal', 'prometheus', 'otel'];
const CHAT_BODY = JSON.stringify({ message: 'hello there, how are you today?' });
const SLOW_LATENCY_MS = 50;
const CONNECTIONS = 32;
const WORKERS = 1;

/** A local OTLP/HTTP sink: answers every export with an empty 200, counts them. */
/** obj[key], created as `empty` when missing. */
function entry(obj, key, empty) {
  if (!(key in obj)) obj[key] = empty;
  return obj[key];
}

function startSink() {
  const counts = {};
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (d) => {
      bytes += d.length;
    });
    req.on('end', () => {
      counts[req.url] ??= { requests: 0, bytes: 0 };
      const c = counts[req.url];
      c.requests += 1;
      c.bytes += bytes;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(SINK_PORT, '127.0.0.1', () => resolve({ counts, close: () => new Promise((r) => server.close(() => r())) }));
  });
}

function parseEnvExample(file) {
  const env = {};
  if (!fs.existsSync(file)) return env;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(OTEL_|PROMETHEUS_|UV_PROJECT|VIRTUAL_ENV)/.test(k)) delete env[k];
  }
  return env;
}

async function wrk({ url, method, body, seconds, connections = CONNECTIONS }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', path.join(ROOT, 'scripts/bench/wrk-report.lua'), url];
  const env = { ...process.env, BENCH_METHOD: method, BENCH_BODY: body ?? '' };
  const r = await run('wrk', args, { env, allowFail: true, timeoutMs: (seconds + 30) * 1000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk gave no result for ${url}: ${tail(r.stdout + r.stderr, 5)}`);
  const j = JSON.parse(line.slice('BENCH_JSON '.length));
  return {
    rps: round(j.rps, 1),
    p50ms: round(j.p50_us / 1000, 2),
    p90ms: round(j.p90_us / 1000, 2),
    p99ms: round(j.p99_us / 1000, 2),
    maxms: round(j.max_us / 1000, 2),
    requests: j.requests,
    non2xx: j.non2xx,
    socketErrors: j.errors.connect + j.errors.read + j.errors.write + j.errors.timeout,
  };
}

export async function serviceGroup({ work, quick }) {
  const w = path.join(work, 'service');
  fs.mkdirSync(w, { recursive: true });
  const uv = uvPath();
  const seconds = quick ? 2 : 10;
  const healthSeconds = quick ? 2 : 5;
  // Three rounds: the observability costs are read from per-round ratios, and a median
  // of two is their mean (one noisy round moves it by half its error).
  const rounds = quick ? 1 : 3;
  const warmupSeconds = 1;
  const baseEnv = { ...cleanEnv(), UV_PYTHON: '3.11', UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  await run('node', ['scripts/build.mjs'], { cwd: ROOT });

  const result = {
    settings: {
      load: `wrk -t1 -c${CONNECTIONS} -d${seconds}s --timeout 10s -s scripts/bench/wrk-report.lua (closed loop, loopback; /health ${healthSeconds} s)`,
      cpu: 'utime + stime of the service process tree over each measured /v1/chat run (/proc/<pid>/stat), divided by the requests served',
      rounds,
      warmupSeconds,
      workers: WORKERS,
      python: "UV_PYTHON=3.11 (uv run --no-sync in the generated project; the baselines run in the generated fastapi project's environment)",
      chatBody: CHAT_BODY,
      fakeModelLatencyMs: { health: 0, chat: 0, chatSlowModel: SLOW_LATENCY_MS },
      serviceEnv: `HOST=127.0.0.1 PORT=<port> WORKERS=${WORKERS} ENVIRONMENT=development, every other setting at its default (LOG_LEVEL=info: one JSON access-log line per request, to a file)`,
      otel: `OTEL_* from the generated .env.example (what compose and the k8s ConfigMap set too: the parentbased_ratelimited sampler, up to 10 new traces per second per worker), with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${SINK_PORT}: a local OTLP/HTTP sink that answers 200 to every export, so spans and metrics are really serialized and sent (nothing disabled)`,
      otelAlwaysOn: 'the same otel service with OTEL_TRACES_SAMPLER=parentbased_always_on: every request traced and exported',
      prometheus:
        'PROMETHEUS_MULTIPROC_DIR set to a fresh temp dir; with WORKERS=1 the service keeps its metrics in-process (multiprocess mode only with several workers)',
    },
    configs: {},
    skipped: {},
    scenarios: { health: {}, chat: {}, chatSlowModel: {} },
    notes: [],
  };

  // --- set up every generated config.
  const configs = [];
  for (const fw of FRAMEWORKS) {
    for (const obs of STACKS) {
      const id = `${fw}-${obs}`;
      const dir = path.join(w, id, NAME);
      const gen = await run(
        'node',
        [path.join(ROOT, 'bin/create-agent-service.js'), dir, '--yes', '--no-git', '--no-install', '--framework', fw, '--observability', obs],
        { allowFail: true },
      );
      if (gen.code !== 0) {
        result.skipped[id] = `generator refused: ${tail(gen.stderr || gen.stdout, 2)}`;
        log(`service: skip ${id}: ${result.skipped[id]}`);
        continue;
      }
      log(`service: ${id}: uv sync`);
      const sync = await run(uv, ['sync', '--frozen', '--no-dev', '-q'], { cwd: dir, env: baseEnv, allowFail: true, timeoutMs: 10 * 60_000 });
      if (sync.code !== 0) {
        result.skipped[id] = `uv sync failed: ${tail(sync.stderr, 3)}`;
        log(`service: skip ${id}: ${result.skipped[id]}`);
        continue;
      }
      const env = { ...baseEnv, ENVIRONMENT: 'development', WORKERS: String(WORKERS) };
      if (obs === 'prometheus') env.PROMETHEUS_MULTIPROC_DIR = path.join(w, `prom-${id}`);
      if (obs === 'otel') {
        for (const [k, v] of Object.entries(parseEnvExample(path.join(dir, '.env.example')))) {
          if (k.startsWith('OTEL_')) env[k] = v;
        }
        env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${SINK_PORT}`;
      }
      configs.push({
        id,
        kind: 'generated',
        framework: fw,
        observability: obs,
        cwd: dir,
        cmd: [uv, 'run', '--no-sync', 'python', '-m', PKG],
        display: `node bin/create-agent-service.js ${NAME} --yes --no-git --no-install --framework ${fw} --observability ${obs} && cd ${NAME} && UV_PYTHON=3.11 uv sync --frozen --no-dev && ${
          obs === 'prometheus'
            ? 'PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) '
            : obs === 'otel'
              ? `$(grep ^OTEL_ .env.example) OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${SINK_PORT} `
              : ''
        }HOST=127.0.0.1 PORT=<port> WORKERS=${WORKERS} uv run --no-sync python -m ${PKG}`,
        env,
      });
    }
  }
  // The otel services again with every request traced (the SDK's default sampler).
  for (const c of configs.filter((x) => x.observability === 'otel')) {
    configs.push({
      ...c,
      id: `${c.id}-always-on`,
      observability: 'otel-always-on',
      env: { ...c.env, OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
      display: c.display.replace('OTEL_EXPORTER_OTLP_ENDPOINT=', 'OTEL_TRACES_SAMPLER=parentbased_always_on OTEL_EXPORTER_OTLP_ENDPOINT='),
    });
  }
  const fastapiProject = configs.find((c) => c.framework === 'fastapi')?.cwd;
  if (fastapiProject) {
    for (const [id, file] of [
      ['hello', 'hello_app.py'],
      ['naive', 'naive_app.py'],
    ]) {
      configs.push({
        id,
        kind: 'baseline',
        cwd: w,
        cmd: [uv, 'run', '--no-sync', '--project', fastapiProject, 'python', path.join(ROOT, 'scripts/bench', file)],
        display: `uv run --no-sync --project ${NAME} python scripts/bench/${file}`,
        env: { ...baseEnv },
      });
    }
  } else {
    result.skipped.hello = result.skipped.naive = 'no generated FastAPI project to take the environment from';
  }
  // The FastAPI + LangGraph peer, in its own pinned environment (scripts/bench/peer_env.mjs).
  try {
    const python = await langgraphPython();
    configs.push({
      id: 'langgraph',
      kind: 'baseline',
      cwd: w,
      cmd: [python, path.join(ROOT, 'scripts/bench/langgraph_app.py')],
      display: `${LANGGRAPH_ENV_COMMAND} && .cache/bench-langgraph/<hash>/bin/python scripts/bench/langgraph_app.py`,
      env: { ...baseEnv },
    });
  } catch (e) {
    result.skipped.langgraph = `no LangGraph environment: ${String(e.message || e).slice(0, 300)}`;
  }
  for (const c of configs) {
    result.configs[c.id] = { kind: c.kind, framework: c.framework ?? 'fastapi', observability: c.observability ?? null, command: c.display };
  }

  const sink = await startSink();
  let port = PORT_BASE;
  const samples = {}; // scenario -> id -> [round results]
  const add = (scenario, id, r) => entry(entry(samples, scenario, {}), id, []).push(r);

  async function withService(c, latencyMs, fn) {
    port = port + 1 >= SINK_PORT ? PORT_BASE + 1 : port + 1;
    const logFile = path.join(w, `${c.id}-${latencyMs}.log`);
    const env = { ...c.env, HOST: '127.0.0.1', PORT: String(port), FAKE_LLM_LATENCY_MS: String(latencyMs) };
    const proc = startProcess(c.cmd[0], c.cmd.slice(1), { cwd: c.cwd, env, logFile });
    try {
      const up = await waitHttpOk(`http://127.0.0.1:${port}/health`, 60_000, proc.isAlive);
      if (!up) throw new Error(`${c.id} did not answer /health on :${port}: ${tail(fs.readFileSync(logFile, 'utf8'), 8)}`);
      const probe = await httpPostJson(`http://127.0.0.1:${port}/v1/chat`, JSON.parse(CHAT_BODY));
      if (probe.status !== 200) throw new Error(`${c.id}: POST /v1/chat answered ${probe.status}: ${probe.text.slice(0, 300)}`);
      await fn(`http://127.0.0.1:${port}`, proc.pid);
    } finally {
      await proc.stop();
    }
  }

  try {
    for (let r = 0; r < rounds; r++) {
      for (const c of configs.filter((x) => x.id !== 'naive')) {
        log(`service: round ${r + 1}/${rounds}: ${c.id}: /health ${healthSeconds} s and /v1/chat ${seconds} s`);
        try {
          await withService(c, 0, async (base, pid) => {
            await wrk({ url: `${base}/health`, method: 'GET', seconds: warmupSeconds });
            add('health', c.id, await wrk({ url: `${base}/health`, method: 'GET', seconds: healthSeconds }));
            await wrk({ url: `${base}/v1/chat`, method: 'POST', body: CHAT_BODY, seconds: warmupSeconds });
            const cpu = cpuMeter(pid);
            const chat = await wrk({ url: `${base}/v1/chat`, method: 'POST', body: CHAT_BODY, seconds });
            add('chat', c.id, { ...chat, cpuUsPerRequest: cpu(chat.requests) });
          });
        } catch (e) {
          result.skipped[c.id] = `failed: ${String(e.message || e).slice(0, 400)}`;
          log(`service: ${c.id}: ${result.skipped[c.id]}`);
        }
      }
    }
    // A model that takes SLOW_LATENCY_MS: the generated default preset, the observability
    // extremes (minimal, every request traced), the bare app, the naive endpoint.
    const slow = configs.filter((c) => ['fastapi-minimal', 'fastapi-prometheus', 'fastapi-otel-always-on', 'hello', 'naive', 'langgraph'].includes(c.id));
    for (const c of slow) {
      log(`service: ${c.id}: /v1/chat with a ${SLOW_LATENCY_MS} ms model, ${seconds} s`);
      try {
        await withService(c, SLOW_LATENCY_MS, async (base) => {
          add('chatSlowModel', c.id, await wrk({ url: `${base}/v1/chat`, method: 'POST', body: CHAT_BODY, seconds }));
        });
      } catch (e) {
        result.skipped[`${c.id} (slow model)`] = `failed: ${String(e.message || e).slice(0, 400)}`;
      }
    }
  } finally {
    await sink.close();
  }
  result.otlpSink = sink.counts;

  // --- summaries: the median over rounds of each figure.
  for (const [scenario, byId] of Object.entries(samples)) {
    for (const [id, rs] of Object.entries(byId)) {
      const m = (k) => round(median(rs.map((x) => x[k])), 2);
      result.scenarios[scenario][id] = {
        rps: round(median(rs.map((x) => x.rps)), 1),
        p50ms: m('p50ms'),
        p99ms: m('p99ms'),
        ...(rs.every((x) => typeof x.cpuUsPerRequest === 'number') ? { cpuUsPerRequest: round(median(rs.map((x) => x.cpuUsPerRequest)), 1) } : {}),
        non2xx: rs.reduce((s, x) => s + x.non2xx, 0),
        socketErrors: rs.reduce((s, x) => s + x.socketErrors, 0),
        rounds: rs,
      };
    }
  }

  // --- ratios.
  const S = result.scenarios;
  const rps = (scenario, id) => S[scenario]?.[id]?.rps;
  const costPct = (v, base) => round((1 - v / base) * 100, 1);
  // The throughput a CPU-bound worker loses, from each round's pair (the two ran in the
  // same round): 1 - (CPU per request, minimal / stack), the median over rounds. Req/s of
  // runs minutes apart drift with the machine's other load; CPU per request much less.
  const cpuCostPct = (baseRounds, rounds) => {
    const pairs = rounds
      .map((x, i) => [baseRounds[i]?.cpuUsPerRequest, x.cpuUsPerRequest])
      .filter(([b, x]) => typeof b === 'number' && typeof x === 'number' && x > 0);
    return pairs.length ? round(median(pairs.map(([b, x]) => (1 - b / x) * 100)), 1) : null;
  };
  result.observabilityCost = {};
  for (const fw of FRAMEWORKS) {
    for (const scenario of ['health', 'chat']) {
      const base = rps(scenario, `${fw}-minimal`);
      if (!base) continue;
      for (const obs of ['prometheus', 'otel', 'otel-always-on']) {
        const v = rps(scenario, `${fw}-${obs}`);
        if (!v) continue;
        const cpu = cpuCostPct(S[scenario][`${fw}-minimal`].rounds, S[scenario][`${fw}-${obs}`].rounds);
        entry(entry(result.observabilityCost, fw, {}), scenario, {})[obs] = {
          throughputCostPct: costPct(v, base),
          ...(cpu === null ? {} : { cpuCostPct: cpu }),
          p99Ratio: round(S[scenario][`${fw}-${obs}`].p99ms / S[scenario][`${fw}-minimal`].p99ms, 2),
        };
      }
    }
  }
  const slowBase = rps('chatSlowModel', 'fastapi-minimal');
  if (slowBase) {
    result.slowModelCost = {};
    for (const obs of ['prometheus', 'otel-always-on']) {
      const v = rps('chatSlowModel', `fastapi-${obs}`);
      if (v) result.slowModelCost[obs] = { throughputCostPct: costPct(v, slowBase) };
    }
  }
  result.frameworks = {};
  for (const obs of STACKS) {
    for (const scenario of ['health', 'chat']) {
      const a = rps(scenario, `fastapi-${obs}`);
      const b = rps(scenario, `litestar-${obs}`);
      if (a && b)
        entry(result.frameworks, obs, {})[scenario] = {
          litestarOverFastapiThroughput: round(b / a, 2),
          litestarOverFastapiP99: round(S[scenario][`litestar-${obs}`].p99ms / S[scenario][`fastapi-${obs}`].p99ms, 2),
        };
    }
  }
  result.vsBareFastapi = {};
  for (const scenario of ['health', 'chat']) {
    const h = rps(scenario, 'hello');
    if (!h) continue;
    for (const c of configs.filter((x) => x.kind === 'generated')) {
      const v = rps(scenario, c.id);
      if (v) entry(result.vsBareFastapi, scenario, {})[c.id] = round(v / h, 2);
    }
  }
  // ours ÷ the FastAPI + LangGraph peer (above 1: ours serves more)
  result.vsLanggraph = {};
  for (const scenario of ['health', 'chat', 'chatSlowModel']) {
    const peer = rps(scenario, 'langgraph');
    if (!peer) continue;
    for (const c of configs.filter((x) => x.kind === 'generated')) {
      const v = rps(scenario, c.id);
      if (v) entry(result.vsLanggraph, scenario, {})[c.id] = round(v / peer, 2);
    }
  }
  const g = S.chatSlowModel['fastapi-prometheus'];
  const n = S.chatSlowModel.naive;
  if (g && n) {
    result.vsNaive = {
      throughput: round(g.rps / n.rps, 1),
      p99: round(n.p99ms / g.p99ms, 1),
      idealRps: round((CONNECTIONS * 1000) / SLOW_LATENCY_MS, 0),
    };
  }
  result.notes.push(
    `One worker per service and one wrk thread: on a 2-core machine the service and the load generator each get about a core. Figures are medians over ${rounds} round(s), the configurations interleaved in each round; other work on the machine adds noise, so compare the ratios.`,
    `/v1/chat with a ${SLOW_LATENCY_MS} ms fake model: with ${CONNECTIONS} connections an endpoint that awaits the model can reach ${round((CONNECTIONS * 1000) / SLOW_LATENCY_MS, 0)} req/s; the naive endpoint's time.sleep blocks its event loop, so it serves one request at a time (at most ${round(1000 / SLOW_LATENCY_MS, 0)} req/s).`,
  );
  return result;
}
