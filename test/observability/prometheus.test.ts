// observability=prometheus, live: Debian's Prometheus scrapes the running
// generated service with the generated rules loaded. Each contract metric
// answers a PromQL query, every rule expression evaluates, every metric the
// dashboard and rules name is really exported, labels stay bounded.
// Needs OBS_PROJECT_DIR (a prometheus project, `uv sync --frozen` done); skipped otherwise.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_BUCKETS, CONTRACT_FAMILIES, chat, NEEDS_API_KEYS, pool, randomHex, randomPaths, request } from './lib/load.js';
import { answers, externalBaseUrl, ports, projectDir, PrometheusProcess, ruleFiles, ServiceProcess, sleep, workerEnv } from './lib/project.js';
import { familyOf, grafanaToPromql, metricNames } from './lib/promql.js';

const a = answers();
const enabled = a?.observability === 'prometheus';
const service = new ServiceProcess();
// With a shared store, a ROLE=worker process executes the runs (scraped on its probe listener).
const worker = new ServiceProcess();
const prometheus = new PrometheusProcess();
let baseUrl = externalBaseUrl;
let job = '';
let workerMetricsDir = '';
// A queue of this test's own: the shared Redis or Postgres may serve other services' runs.
const runQueue = { RUN_QUEUE_NAME: `obs-${randomHex(6)}` };

interface RulesApi {
  data: { groups: { name: string; rules: { name: string; query: string; type: 'recording' | 'alerting'; health: string; lastError?: string }[] }[] };
}

async function waitQuery(what: string, expr: string, ok: (n: number) => boolean, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < deadline) {
    const r = await prometheus.query(expr);
    last = r.status === 'success' ? (r.data?.result.length ? Number(r.data.result[0]!.value?.[1]) : 0) : -1;
    if (ok(last)) return last;
    await sleep(500);
  }
  throw new Error(`${what}: ${expr} gave ${last}\n${prometheus.log.slice(-2000)}`);
}

function exposition(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

beforeAll(async () => {
  if (!enabled) return;
  const sharedStore = a !== undefined && 'SESSION_STORE' in workerEnv(a);
  if (!baseUrl) {
    await service.start(projectDir, ports.service, runQueue);
    baseUrl = service.baseUrl;
    if (sharedStore) {
      // Its own multiprocess directory, as in its own container (the api's is the default one).
      workerMetricsDir = mkdtempSync(join(tmpdir(), 'obs-worker-metrics-'));
      await worker.start(projectDir, ports.worker, { ...runQueue, ROLE: 'worker', PROMETHEUS_MULTIPROC_DIR: workerMetricsDir });
    }
  }
  const generated = readFileSync(join(projectDir, 'deploy/prometheus/prometheus.yml'), 'utf8');
  job = /job_name: (\S+)/.exec(generated)![1]!;
  const target = new URL(baseUrl).host;
  // The generated scrape job (same job name, path), pointed at the running service.
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    ...ruleFiles().map((f) => `  - ${JSON.stringify(f)}`),
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(job)}`,
    '    metrics_path: /metrics',
    '    scrape_interval: 1s',
    '    scrape_timeout: 1s',
    '    static_configs:',
    `      - targets: [${[target, ...(worker.baseUrl ? [new URL(worker.baseUrl).host] : [])].map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  await prometheus.start(ports.prometheus, config);
  await waitQuery('target up', `up{job="${job}"}`, (n) => n === 1);
  // a few requests of every kind: plain turn, tool turn, 404, stream
  await chat(baseUrl, 'hello');
  await chat(baseUrl, 'what is 6*7');
  await request(`${baseUrl}/no-such-route`);
  await request(`${baseUrl}/v1/chat/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hi' }) });
  await waitQuery('requests scraped', `sum(agent_requests_total{job="${job}"})`, (n) => n >= 4);
  // one background run, executed in-process (memory store) or by the worker (shared store)
  if (!externalBaseUrl) await oneRun();
});

async function oneRun(): Promise<void> {
  const queued = await request(`${baseUrl}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'what is 6*7' }) });
  expect(queued.status, queued.text).toBe(202);
  const id = (JSON.parse(queued.text) as { id: string }).id;
  const deadline = Date.now() + 60_000;
  let status = '';
  while (Date.now() < deadline && status !== 'succeeded') {
    status = (JSON.parse((await request(`${baseUrl}/v1/runs/${id}`)).text) as { status: string }).status;
    if (status !== 'succeeded') await sleep(200);
  }
  expect(status, `run ${id}\n${worker.stdout.slice(-10).join('\n')}`).toBe('succeeded');
}


afterAll(async () => {
  await prometheus.stop();
  await worker.stop();
  await service.stop();
  if (workerMetricsDir) rmSync(workerMetricsDir, { recursive: true, force: true });
});

describe.skipIf(!enabled)('observability=prometheus against a running service', () => {
  it('each contract metric answers a PromQL query', async () => {
    for (const family of CONTRACT_FAMILIES.filter((f) => !NEEDS_API_KEYS.has(f))) {
      const expr = family.endsWith('_seconds') ? `${family}_bucket{job="${job}"}` : `${family}{job="${job}"}`;
      const r = await prometheus.query(expr);
      expect(r.status, `${expr}: ${r.error}`).toBe('success');
      expect(r.data!.result.length, `${expr} returned no series`).toBeGreaterThan(0);
    }
    const routes = await prometheus.query(`count by (route, method, status) (agent_requests_total{job="${job}"})`);
    const labels = routes.data!.result.map((s) => s.metric);
    expect(labels).toContainEqual({ route: '/v1/chat', method: 'POST', status: '200' });
    expect(labels).toContainEqual({ route: 'unmatched', method: 'GET', status: '404' });
    const le = await prometheus.query(`count by (le) (agent_request_duration_seconds_bucket{job="${job}"})`);
    const bounds = le.data!.result.map((s) => s.metric.le!).filter((b) => b !== '+Inf').map(Number).sort((x, y) => x - y);
    expect(bounds).toEqual(CONTRACT_BUCKETS);
    const tokens = await prometheus.query(`sum by (type) (agent_tokens_total{job="${job}"})`);
    const types = tokens.data!.result.map((s) => s.metric.type!);
    expect(types).toEqual(expect.arrayContaining(['input', 'output']));
    for (const t of types) expect(['input', 'cached_input', 'output']).toContain(t);
    const budget = await prometheus.query(`max(agent_token_budget_used_ratio{job="${job}"})`);
    expect(Number(budget.data!.result[0]!.value![1])).toBeGreaterThan(0);
  });

  it.skipIf(Boolean(externalBaseUrl))('a run is counted by the process that executed it, as Prometheus scrapes it', async () => {
    await waitQuery('the run counted', `sum(agent_runs_total{job="${job}", status="succeeded"})`, (n) => n >= 1);
    await waitQuery('its duration', `sum(agent_run_duration_seconds_count{job="${job}"})`, (n) => n >= 1);
    await waitQuery('its queue wait', `sum(agent_queue_wait_seconds_count{job="${job}"})`, (n) => n >= 1);
    // read from the queue by every process that sees it: nothing waits now
    await waitQuery('the queue depth', `count(agent_queue_depth{job="${job}"} == 0)`, (n) => n >= 1);
    const statuses = await prometheus.query(`count by (status) (agent_runs_total{job="${job}"})`);
    expect(statuses.data!.result.map((r) => r.metric.status).sort()).toEqual(['cancelled', 'failed', 'succeeded']);
  });

  it('Prometheus loaded every generated rule and each expression evaluates without error', async () => {
    const rules = await prometheus.api<RulesApi>('/api/v1/rules');
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.filter((r) => r.type === 'alerting').map((r) => r.name).sort()).toEqual([
      'AgentServiceHighErrorRatio',
      'AgentServiceHighLatencyP95',
      'AgentServiceKeyBudgetSpent',
      'AgentServiceRunQueueGrowing',
      'AgentServiceRunQueueWaitHigh',
      'AgentServiceSpendRateHigh',
      'AgentServiceTargetDown',
      'AgentServiceTokenBudgetHigh',
    ]);
    for (const rule of all) {
      const r = await prometheus.query(rule.query);
      expect(r.status, `${rule.name}: ${rule.query}: ${r.error}`).toBe('success');
      expect(rule.lastError ?? '', rule.name).toBe('');
    }
    // healthy service: no alert fires
    const alerts = await prometheus.api<{ data: { alerts: { labels: { alertname: string }; state: string }[] } }>('/api/v1/alerts');
    expect(alerts.data.alerts.filter((x) => x.state === 'firing')).toEqual([]);
  });

  it('every metric the dashboard and the rules name is exported by a real scrape', async () => {
    const scrape = await request(`${baseUrl}/metrics`);
    expect(scrape.status).toBe(200);
    const exported = exposition(scrape.text);
    const rules = await prometheus.api<RulesApi>('/api/v1/rules');
    const recorded = new Set(rules.data.groups.flatMap((g) => g.rules.filter((r) => r.type === 'recording').map((r) => r.name)));
    const dash = JSON.parse(readFileSync(join(projectDir, 'deploy/grafana/dashboards/agent-service.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
      templating: { list: { definition?: string }[] };
    };
    const exprs: [string, string][] = [
      ...dash.panels.flatMap((p) => (p.targets ?? []).map((t): [string, string] => [`panel "${p.title}"`, grafanaToPromql(t.expr)])),
      ...rules.data.groups.flatMap((g) => g.rules.map((r): [string, string] => [`rule ${r.name}`, r.query])),
    ];
    const builtin = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
    for (const [where, expr] of exprs) {
      const names = metricNames(expr);
      // a constant (the spend alert's daily figure) names no metric
      if (/^vector\(\d+(\.\d+)?\)$/.test(expr.trim())) continue;
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) {
        const ok =
          exported.has(n) ||
          recorded.has(n) ||
          builtin.has(n) ||
          NEEDS_API_KEYS.has(n) ||
          (exported.has(`${familyOf(n)}_bucket`) && n !== familyOf(n));
        expect(ok, `${where} uses ${n}, which the service does not export: ${expr}`).toBe(true);
      }
      // and Prometheus evaluates the dashboard's queries
      const r = await prometheus.query(expr);
      expect(r.status, `${where}: ${expr}: ${r.error}`).toBe('success');
    }
    const rate = await prometheus.query(grafanaToPromql(dash.panels[0]!.targets![0]!.expr));
    expect(rate.data!.result.length, 'the request rate panel has data').toBeGreaterThan(0);
  });

  it('the series count of agent_requests_total does not grow with 1,000 distinct random paths', async () => {
    const count = `count(agent_requests_total{job="${job}"})`;
    // the unmatched GET 404 series exists already (beforeAll)
    const before = await waitQuery('series before', count, (n) => n > 0);
    const marker = `rnd${randomHex(3)}`;
    const paths = randomPaths(1000, marker);
    const statuses = await pool(paths.length, 8, async (i) => (await request(`${baseUrl}${paths[i]}`)).status);
    expect(new Set(statuses)).toEqual(new Set([404]));
    const total = `sum(agent_requests_total{job="${job}", route="unmatched"})`;
    await waitQuery('the random requests scraped', total, (n) => n >= 1000);
    const after = await waitQuery('series after', count, (n) => n > 0);
    expect(after).toBe(before);
    const scrape = await request(`${baseUrl}/metrics`);
    expect(scrape.text).not.toContain(marker);
    const leaked = await prometheus.query(`count({job="${job}", route=~".*${marker}.*"})`);
    expect(leaked.data!.result).toEqual([]);
  });
});
