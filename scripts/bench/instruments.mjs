// The `instruments` group: what the otel stack's hand-written metric instruments
// save against the OpenTelemetry SDK's own (scripts/bench/otel_instruments.py),
// as a share of one fake-model /v1/chat turn's CPU. The otel layer keeps its own
// instruments only while that share is over 5 % (issue 15).
import path from 'node:path';
import { log, ROOT, run, tail, uvPath } from './lib.mjs';

export async function instrumentsGroup({ work, quick }) {
  const dir = path.join(work, 'instruments', 'bench-otel');
  await run('node', ['scripts/build.mjs'], { cwd: ROOT });
  await run('node', [path.join(ROOT, 'bin/create-agent-service.js'), dir, '--yes', '--no-git', '--no-install', '--observability', 'otel']);
  const env = { ...process.env, UV_PYTHON: '3.11', UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1' };
  log('instruments: uv sync');
  await run(uvPath(), ['sync', '--frozen', '--no-dev', '-q'], { cwd: dir, env, timeoutMs: 10 * 60_000 });
  const otelEnv = {
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRIC_EXPORT_INTERVAL: '600000',
    LOG_LEVEL: 'warning',
    RATE_LIMIT_PER_MINUTE: '0',
    ...(quick ? { BENCH_ROUNDS: '3', BENCH_UPDATES: '5000', BENCH_TURNS: '500' } : {}),
  };
  const r = await run(path.join(dir, '.venv/bin/python'), [path.join(ROOT, 'scripts/bench/otel_instruments.py'), 'bench_otel'], {
    cwd: dir,
    env: otelEnv,
    allowFail: true,
  });
  if (r.code !== 0) throw new Error(`otel_instruments.py failed: ${tail(r.stderr, 5)}`);
  const figures = JSON.parse(r.stdout.trim().split('\n').pop());
  log(`instruments: ${JSON.stringify(figures)}`);
  return {
    settings: {
      what: 'CPU µs of the eight metric updates of one fake-model /v1/chat turn, SDK instruments vs the otel layer’s own (median of interleaved rounds), and CPU µs of a whole turn through the ASGI app in process',
    },
    ...figures,
  };
}
