// The observability stacks' generated configuration, checked with the real tools
// (promtool from Debian's prometheus package) and for determinism. No service runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render, type RenderedTree } from '../../generators/app/render.js';
import { CONTRACT_FAMILIES } from './lib/load.js';
import { familyOf, grafanaToPromql, metricNames } from './lib/promql.js';

const root = resolve(import.meta.dirname, '..', '..');

const base = {
  name: 'obs-check',
  description: 'An LLM agent service',
  owner: 'acme',
  image: 'ghcr.io/acme/obs-check',
  host: 'obs-check.example.com',
  port: 8000,
  framework: 'fastapi',
  store: 'memory',
  ci: 'none',
  k8s: 'none',
  python: '3.12',
  replicas: 1,
};

function renderPreset(observability: string): RenderedTree {
  return render({ ...base, observability } as never, { templatesDir: join(root, 'templates'), generatorVersion: '0.0.0-test' });
}

function writeTree(tree: RenderedTree, dir: string): void {
  for (const [path, file] of tree) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
}

function text(tree: RenderedTree, path: string): string {
  const f = tree.get(path);
  if (!f) throw new Error(`${path} not rendered (have: ${[...tree.keys()].filter((p) => p.startsWith('deploy/')).join(', ')})`);
  return f.content.toString('utf8');
}

function promtool(...args: string[]): string {
  return execFileSync(process.env.PROMTOOL_BIN ?? 'promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Dashboard {
  uid: string;
  panels: { id: number; type: string; title: string; gridPos: { y: number }; targets: { expr: string; refId: string }[]; datasource: { uid: string } }[];
  templating: { list: { query: { query: string } | string }[] };
}

/** agent_queue_wait_seconds buckets of one instance: 10 runs every 30 s, each waiting up to `le` seconds (and more than the bound below it). */
function queueWaitBuckets(job: string, le: string): { series: string; values: string }[] {
  const bounds = ['0.05', '0.1', '0.5', '1', '5', '15', '60', '300', '900', '+Inf'];
  return bounds.map((b) => ({
    series: `agent_queue_wait_seconds_bucket{job="${job}",instance="a",le="${b}"}`,
    values: bounds.indexOf(b) >= bounds.indexOf(le) ? '0+10x60' : '0+0x60',
  }));
}

const work = mkdtempSync(join(tmpdir(), 'obs-static-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('observability=prometheus', () => {
  let tree: RenderedTree;
  const dir = join(work, 'prometheus');
  beforeAll(() => {
    tree = renderPreset('prometheus');
    writeTree(tree, dir);
  });

  it('promtool check config passes on deploy/prometheus/prometheus.yml', () => {
    const out = promtool('check', 'config', '--syntax-only', join(dir, 'deploy/prometheus/prometheus.yml'));
    expect(out).toMatch(/SUCCESS/);
  });

  it('promtool check rules passes on every rule file', () => {
    const files = readdirSync(join(dir, 'deploy/prometheus/rules')).map((f) => join(dir, 'deploy/prometheus/rules', f));
    expect(files.length).toBeGreaterThan(0);
    const out = promtool('check', 'rules', ...files);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the alerts fire on synthetic series (promtool test rules)', () => {
    // promtool compares annotations too: test a copy without them (expr, for and labels untouched)
    const rules = readdirSync(join(dir, 'deploy/prometheus/rules')).map((f) => {
      const copy = join(dir, `no-annotations.${f}`);
      const src = text(tree, `deploy/prometheus/rules/${f}`);
      writeFileSync(copy, src.replace(/\n( +)annotations:\n(\1 .*\n)*/g, '\n'));
      return copy;
    });
    const job = 'obs-check';
    const test = {
      rule_files: rules,
      evaluation_interval: '30s',
      tests: [
        {
          interval: '30s',
          input_series: [
            // 10 req/s, 1 in 10 is a 500 -> 10 % errors; every request takes 20 s
            { series: `agent_requests_total{job="${job}",instance="a",route="/v1/chat",method="POST",status="200"}`, values: '0+270x40' },
            { series: `agent_requests_total{job="${job}",instance="a",route="/v1/chat",method="POST",status="500"}`, values: '0+30x40' },
            ...['0.05', '0.1', '0.25', '0.5', '1', '2', '5', '10'].map((le) => ({
              series: `agent_request_duration_seconds_bucket{job="${job}",instance="a",route="/v1/chat",method="POST",le="${le}"}`,
              values: '0+0x40',
            })),
            ...['30', '+Inf'].map((le) => ({
              series: `agent_request_duration_seconds_bucket{job="${job}",instance="a",route="/v1/chat",method="POST",le="${le}"}`,
              values: '0+300x40',
            })),
            { series: `agent_token_budget_used_ratio{job="${job}",instance="a"}`, values: '0.85x40' },
            { series: `up{job="${job}",instance="a"}`, values: '0x40' },
            // 0.06 USD every 30 s on two workers: 0.004 USD/s, 345.6 USD a day (over the default 100)
            { series: `agent_cost_usd_total{job="${job}",instance="a",model="m1"}`, values: '0+0.06x200' },
            { series: `agent_cost_usd_total{job="${job}",instance="b",model="m2"}`, values: '0+0.06x200' },
            // one key spent, one at 99 %: only the first fires
            { series: `agent_key_token_budget_used_ratio{job="${job}",instance="a",key_id="0123456789abcdef"}`, values: '1x40' },
            { series: `agent_key_token_budget_used_ratio{job="${job}",instance="a",key_id="fedcba9876543210"}`, values: '0.99x40' },
            // the run queue grows by 2 runs every 30 s; every run waits 5 to 15 minutes
            { series: `agent_queue_depth{job="${job}",instance="a"}`, values: '0+2x60' },
            ...queueWaitBuckets(job, '900'),
          ],
          alert_rule_test: [
            ['AgentServiceHighErrorRatio', { severity: 'critical', service: job }],
            ['AgentServiceHighLatencyP95', { severity: 'warning', service: job, route: '/v1/chat' }],
            ['AgentServiceTokenBudgetHigh', { severity: 'warning', service: job }],
            ['AgentServiceTargetDown', { severity: 'critical', service: job, instance: 'a' }],
            // the hour's rate needs an hour of series: 80 minutes in
            ['AgentServiceSpendRateHigh', { severity: 'warning', service: job }, '80m'],
            ['AgentServiceKeyBudgetSpent', { severity: 'warning', service: job, key_id: '0123456789abcdef' }],
            // above 20 runs after 5 minutes, then 10 minutes of `for`
            ['AgentServiceRunQueueGrowing', { severity: 'warning', service: job }, '25m'],
            ['AgentServiceRunQueueWaitHigh', { severity: 'warning', service: job }, '25m'],
          ].map(([alertname, labels, evalTime]) => ({
            eval_time: evalTime ?? '15m',
            alertname,
            exp_alerts: [{ exp_labels: { ...(labels as object), job } }],
          })),
        },
        {
          // below the figures: a spend of 0.01 USD every 30 s (28.8 USD a day), keys under 100 %
          interval: '30s',
          input_series: [
            { series: `agent_cost_usd_total{job="${job}",instance="a",model="m1"}`, values: '0+0.01x200' },
            { series: `agent_key_token_budget_used_ratio{job="${job}",instance="a",key_id="0123456789abcdef"}`, values: '0.99x200' },
          ],
          alert_rule_test: ['AgentServiceSpendRateHigh', 'AgentServiceKeyBudgetSpent'].map((alertname) => ({
            eval_time: '80m',
            alertname,
            exp_alerts: [],
          })),
        },
        // the run alerts stay silent: a big queue that does not grow, runs that start within 50 ms
        ...[
          ['50x60', '0.05'],
          // a queue that grows but stays small (12 runs after 30 minutes)
          ['0+0.2x60', '0.05'],
        ].map(([depth, le]) => ({
          interval: '30s',
          input_series: [{ series: `agent_queue_depth{job="${job}",instance="a"}`, values: depth }, ...queueWaitBuckets(job, le!)],
          alert_rule_test: ['AgentServiceRunQueueGrowing', 'AgentServiceRunQueueWaitHigh'].map((alertname) => ({
            eval_time: '30m',
            alertname,
            exp_alerts: [],
          })),
        })),
      ],
    };
    // JSON is YAML: promtool reads it as is
    const file = join(dir, 'alerts.test.yml');
    writeFileSync(file, JSON.stringify(test, null, 2));
    let out = '';
    try {
      out = promtool('test', 'rules', file);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`promtool test rules failed:\n${e.stdout}\n${e.stderr}`);
    }
    expect(out).toMatch(/SUCCESS/);
  });

  it('every alert has for, severity, summary, description and runbook text', () => {
    const rules = text(tree, 'deploy/prometheus/rules/agent-service.rules.yml');
    const alerts = rules.split(/\n(?=\s+- alert: )/).slice(1);
    expect(alerts.map((a) => /- alert: (\S+)/.exec(a)![1]).sort()).toEqual([
      'AgentServiceHighErrorRatio',
      'AgentServiceHighLatencyP95',
      'AgentServiceKeyBudgetSpent',
      'AgentServiceRunQueueGrowing',
      'AgentServiceRunQueueWaitHigh',
      'AgentServiceSpendRateHigh',
      'AgentServiceTargetDown',
      'AgentServiceTokenBudgetHigh',
    ]);
    for (const a of alerts) {
      for (const key of ['expr:', 'for:', 'severity:', 'summary:', 'description:', 'runbook:']) expect(a, a).toContain(key);
    }
  });

  it('the dashboard is deterministic JSON with unique, stable panel ids and only contract metrics', () => {
    const raw = text(tree, 'deploy/grafana/dashboards/agent-service.json');
    const dash = JSON.parse(raw) as Dashboard;
    expect(raw).toBe(`${JSON.stringify(dash, null, 2)}\n`.replace(/\n/g, '\n')); // canonical formatting
    expect(raw).not.toMatch(/"(id|uid)": null|timestamp|"iteration"/);
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // rows group panels (the Spend row); every other panel queries Prometheus
    const queries = dash.panels.filter((p) => p.type !== 'row');
    expect(queries.every((p) => p.datasource.uid === 'prometheus')).toBe(true);
    const used = new Set<string>();
    for (const p of queries) for (const t of p.targets) for (const n of metricNames(grafanaToPromql(t.expr))) used.add(familyOf(n));
    expect([...used].sort()).toEqual([...CONTRACT_FAMILIES].sort());
    // the two renders are byte-identical
    expect(renderPreset('prometheus').get('deploy/grafana/dashboards/agent-service.json')!.content.equals(tree.get('deploy/grafana/dashboards/agent-service.json')!.content)).toBe(true);
  });

  it('the panels the issue asks for are there', () => {
    const dash = JSON.parse(text(tree, 'deploy/grafana/dashboards/agent-service.json')) as Dashboard;
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const q of ['0.5', '0.95', '0.99']) expect(exprs).toContain(`histogram_quantile(${q}, sum by (route, le) (rate(agent_request_duration_seconds_bucket`);
    expect(exprs).toMatch(/sum by \(model, type\) \(rate\(agent_tokens_total/);
    expect(exprs).toMatch(/sum by \(tool, status\) \(rate\(agent_tool_calls_total/);
    expect(exprs).toMatch(/sum by \(model, status\) \(rate\(agent_llm_calls_total/);
    expect(exprs).toMatch(/status=~"5\.\."/);
    // the Spend row: cost per hour and per day by model, budget use by key id, cache hit rate
    const rowY = (title: string) => dash.panels.find((r) => r.type === 'row' && r.title === title)!.gridPos.y;
    const spend = dash.panels.filter((p) => p.type !== 'row' && p.gridPos.y > rowY('Spend') && p.gridPos.y < rowY('Runs'));
    const spendExprs = spend.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    expect(spendExprs).toContain('sum by (model) (rate(agent_cost_usd_total{job=~"$job"}[$__rate_interval])) * 3600');
    expect(spendExprs).toContain('sum by (model) (increase(agent_cost_usd_total{job=~"$job"}[1d]))');
    expect(spendExprs).toContain('max by (key_id) (agent_key_token_budget_used_ratio{job=~"$job"})');
    expect(spendExprs).toMatch(/type="cached_input"[\s\S]*type=~"input\|cached_input"/);
    // the Runs row: runs/s by status, run duration p50/p99, queue wait p99, queue depth
    const runsExprs = dash.panels
      .filter((p) => p.gridPos.y > rowY('Runs'))
      .flatMap((p) => p.targets.map((t) => t.expr))
      .join('\n');
    expect(runsExprs).toContain('sum by (status) (rate(agent_runs_total{job=~"$job"}[$__rate_interval]))');
    for (const q of ['0.5', '0.99']) expect(runsExprs).toContain(`histogram_quantile(${q}, sum by (le) (rate(agent_run_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))`);
    expect(runsExprs).toContain('histogram_quantile(0.99, sum by (le) (rate(agent_queue_wait_seconds_bucket{job=~"$job"}[$__rate_interval])))');
    expect(runsExprs).toContain('max(agent_queue_depth{job=~"$job"})');
  });

  it('compose runs Prometheus and Grafana under the observability profile', () => {
    const compose = text(tree, 'compose.yaml');
    expect(compose).toMatch(/\n {2}prometheus:\n {4}image: prom\/prometheus:v[\d.]+\n {4}profiles: \["observability"\]/);
    expect(compose).toMatch(/\n {2}grafana:\n {4}image: grafana\/grafana:[\d.]+\n {4}profiles: \["observability"\]/);
    expect(compose).toMatch(/\nvolumes:\n(.*\n)*\s+prometheus-data: \{\}/);
    expect(text(tree, 'deploy/prometheus/prometheus.yml')).toContain('- app:8000');
  });
});

describe('observability=prometheus, k8s', () => {
  it('ships an opt-in ServiceMonitor kustomize component only with k8s=kustomize', () => {
    const withK8s = render({ ...base, k8s: 'kustomize', observability: 'prometheus' } as never, { templatesDir: join(root, 'templates'), generatorVersion: '0.0.0-test' });
    const component = text(withK8s, 'deploy/k8s/components/servicemonitor/kustomization.yaml');
    expect(component).toMatch(/kind: Component\n\nresources:\n {2}- servicemonitor\.yaml/);
    const sm = text(withK8s, 'deploy/k8s/components/servicemonitor/servicemonitor.yaml');
    expect(sm).toMatch(/kind: ServiceMonitor[\s\S]*matchLabels:\n {6}app\.kubernetes\.io\/name: obs-check\n {2}endpoints:\n {4}- port: http\n {6}path: \/metrics/);
    // the Service it selects has that port name
    expect(text(withK8s, 'deploy/k8s/base/service.yaml')).toMatch(/- name: http/);
    const without = renderPreset('prometheus');
    expect([...without.keys()].filter((p) => p.startsWith('deploy/k8s'))).toEqual([]);
  });
});

describe('observability=otel', () => {
  let tree: RenderedTree;
  const dir = join(work, 'otel');
  beforeAll(() => {
    tree = renderPreset('otel');
    writeTree(tree, dir);
  });

  it('promtool check config passes on the Prometheus that scrapes the collector', () => {
    expect(promtool('check', 'config', '--syntax-only', join(dir, 'deploy/prometheus/prometheus.yml'))).toMatch(/SUCCESS/);
    expect(text(tree, 'deploy/prometheus/prometheus.yml')).toMatch(/honor_labels: true[\s\S]*otel-collector:8889/);
  });

  it('the collector receives OTLP/HTTP, batches, sends traces to Jaeger and metrics to Prometheus', () => {
    const c = text(tree, 'deploy/otel-collector/config.yaml');
    expect(c).toMatch(/receivers:\n {2}otlp:\n {4}protocols:\n {6}http:\n {8}endpoint: 0\.0\.0\.0:4318/);
    expect(c).toMatch(/processors:[\s\S]*\n {2}batch:/);
    expect(c).toMatch(/exporters:[\s\S]*\n {2}otlp_grpc\/jaeger:\n {4}endpoint: jaeger:4317/);
    expect(c).toMatch(/\n {2}prometheus:\n {4}# [^\n]*\n {4}endpoint: 0\.0\.0\.0:8889/);
    expect(c).toMatch(/traces:\n {6}receivers: \[otlp\]\n {6}processors: \[memory_limiter, batch\]\n {6}exporters: \[otlp_grpc\/jaeger\]/);
    expect(c).toMatch(/metrics:\n {6}receivers: \[otlp\]\n {6}processors: \[memory_limiter, batch\]\n {6}exporters: \[prometheus\]/);
  });

  it('Grafana gets both datasources and the same dashboard', () => {
    const ds = text(tree, 'deploy/grafana/provisioning/datasources/datasources.yml');
    expect(ds).toMatch(/uid: prometheus\n\s+type: prometheus/);
    expect(ds).toMatch(/uid: jaeger\n\s+type: jaeger\n[\s\S]*url: http:\/\/jaeger:16686/);
    expect(text(tree, 'deploy/grafana/dashboards/agent-service.json')).toBe(text(renderPreset('prometheus'), 'deploy/grafana/dashboards/agent-service.json'));
  });

  it('compose runs the collector and Jaeger with the app, Prometheus and Grafana under the observability profile', () => {
    const compose = text(tree, 'compose.yaml');
    // The app always exports to the collector, so it runs whenever the app does.
    for (const svc of ['otel-collector', 'jaeger']) {
      expect(compose).toMatch(new RegExp(`\\n {2}${svc}:\\n {4}image: [^\\n]+\\n {4}(?!profiles:)`));
    }
    for (const svc of ['prometheus', 'grafana']) {
      expect(compose).toMatch(new RegExp(`\\n {2}${svc}:\\n {4}image: [^\\n]+\\n {4}profiles: \\["observability"\\]`));
    }
    expect(compose).toContain('OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318');
    expect(compose).toMatch(/\n {4}depends_on:\n(?: {6}.*\n)*? {6}otel-collector:\n {8}condition: service_started\n/);
  });

  it('the Python module, its tests and its dependencies are there; no /metrics scrape config for the app', () => {
    for (const f of ['__init__.py', '_middleware.py', '_recorders.py', '_state.py']) expect(tree.has(`src/obs_check/observability/${f}`)).toBe(true);
    expect(tree.has('tests/test_observability_otel.py')).toBe(true);
    const pyproject = text(tree, 'pyproject.toml');
    for (const dep of ['opentelemetry-sdk', 'opentelemetry-exporter-otlp-proto-http', 'opentelemetry-instrumentation-httpx']) expect(pyproject).toContain(dep);
    expect(pyproject).not.toContain('prometheus-client');
    expect(tree.has('deploy/prometheus/rules/agent-service.rules.yml')).toBe(false);
  });
});

describe('observability=minimal', () => {
  it('adds no metrics endpoint config and no extra containers', () => {
    const tree = renderPreset('minimal');
    expect([...tree.keys()].filter((p) => p.startsWith('deploy/prometheus') || p.startsWith('deploy/grafana') || p.startsWith('deploy/otel'))).toEqual([]);
    const compose = text(tree, 'compose.yaml');
    expect(compose).not.toMatch(/prometheus|grafana|otel-collector|jaeger/);
  });
});
