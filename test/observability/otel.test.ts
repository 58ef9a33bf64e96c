// observability=otel, live: the generated service exports to a test OTLP/HTTP
// receiver. Request span, GenAI spans as its children, X-Trace-Id = spans = logs,
// the contract metrics over OTLP, bounded labels.
// Needs OBS_PROJECT_DIR (an otel project, `uv sync --frozen` done); skipped otherwise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_BUCKETS, CONTRACT_FAMILIES, CONTRACT_LABELS, chat, NEEDS_A_RUN, NEEDS_API_KEYS, pool, randomHex, randomPaths, request } from './lib/load.js';
import { OtlpReceiver, type ReceivedSpan } from './lib/otlp.js';
import { answers, externalBaseUrl, ports, projectDir, ServiceProcess, sleep, workerEnv } from './lib/project.js';
import { familyOf, grafanaToPromql, metricNames } from './lib/promql.js';

const a = answers();
const enabled = a?.observability === 'otel';
const receiver = new OtlpReceiver();
const service = new ServiceProcess();
// With a shared store, a ROLE=worker process executes the runs and exports their spans.
const worker = new ServiceProcess();
let baseUrl = externalBaseUrl;

beforeAll(async () => {
  if (!enabled) return;
  await receiver.start(ports.otlp);
  if (!baseUrl) {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.otlp}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_SERVICE_NAME: a.name,
      // a queue of this check's own: the shared Redis or Postgres may serve other services' runs
      RUN_QUEUE_NAME: `obs-${randomHex(6)}`,
    };
    await service.start(projectDir, ports.service, env);
    baseUrl = service.baseUrl;
    if ('SESSION_STORE' in workerEnv(a)) await worker.start(projectDir, ports.worker, { ...env, ROLE: 'worker' });
  }
});

afterAll(async () => {
  await worker.stop();
  await service.stop();
  await receiver.stop();
});

const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

describe.skipIf(!enabled)('observability=otel against a running service', () => {
  it('exports a server span per request with the LLM and tool spans as its children', async () => {
    const res = await chat(baseUrl, 'what is 6*7');
    expect(res.status, res.text).toBe(200);
    const body = JSON.parse(res.text) as { trace_id: string; usage: { input_tokens: number; output_tokens: number; cost_usd: number | null }; tool_calls: { name: string }[] };
    const traceId = res.headers.get('x-trace-id') ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.trace_id).toBe(traceId);
    await receiver.waitFor(`spans of trace ${traceId}`, () => {
      const spans = spansOf(traceId);
      return spans.some((s) => s.kind === 2) && spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat').length >= 2;
    });
    const spans = spansOf(traceId);
    const servers = spans.filter((s) => s.kind === 2);
    expect(servers).toHaveLength(1);
    const server = servers[0]!;
    expect(server.parentSpanId).toBe('');
    expect(server.name).toBe('POST /v1/chat');
    expect(server.attributes['http.route']).toBe('/v1/chat');
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(server.resource['service.name']).toBe(a!.name);

    const llm = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    let inputTokens = 0;
    let outputTokens = 0;
    for (const span of llm) {
      expect(span.parentSpanId, span.name).toBe(server.spanId);
      expect(span.kind).toBe(3);
      expect(typeof span.attributes['gen_ai.request.model']).toBe('string');
      expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
      inputTokens += span.attributes['gen_ai.usage.input_tokens'] as number;
      outputTokens += span.attributes['gen_ai.usage.output_tokens'] as number;
    }
    // the spans carry the same usage the response reports
    expect({ input_tokens: inputTokens, output_tokens: outputTokens }).toEqual({ input_tokens: body.usage.input_tokens, output_tokens: body.usage.output_tokens });
    // priced by LLM_PRICES (lib/project.ts): the response carries the turn's cost
    expect(body.usage.cost_usd).toBeGreaterThan(0);

    const tools = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
    expect(tools.map((s) => s.attributes['gen_ai.tool.name'])).toEqual(body.tool_calls.map((t) => t.name));
    for (const t of tools) expect(t.parentSpanId).toBe(server.spanId);

    // the log lines of this request carry the same trace id (only when the tests started the process)
    if (!service.child) return;
    await sleep(300);
    const requestId = res.headers.get('x-request-id');
    const lines = service.logLines().filter((l) => l.request_id === requestId);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.trace_id, JSON.stringify(l)).toBe(traceId);
    const access = lines.find((l) => l.method === 'POST' && l.status === 200 && 'duration_ms' in l);
    expect(access, JSON.stringify(lines)).toBeDefined();
    expect(access!.route).toBe('/v1/chat');
    expect(typeof access!.span_id).toBe('string');
    expect([server.spanId, ...spans.map((s) => s.spanId)]).toContain(access!.span_id);
  });

  it.skipIf(Boolean(externalBaseUrl))('a run has its own span, linked to the span of the request that queued it', async () => {
    const queued = await request(`${baseUrl}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'what is 6*7' }) });
    expect(queued.status, queued.text).toBe(202);
    const queuedBy = queued.headers.get('x-trace-id') ?? '';
    const runId = (JSON.parse(queued.text) as { id: string }).id;
    await receiver.waitFor('the POST /v1/runs span', () => spansOf(queuedBy).some((s) => s.kind === 2));
    const post = spansOf(queuedBy).find((s) => s.kind === 2)!;
    await receiver.waitFor(`the span of run ${runId}`, () => receiver.spans.some((s) => s.name === 'agent_run' && s.attributes['messaging.message.id'] === runId));
    const run = receiver.spans.find((s) => s.name === 'agent_run' && s.attributes['messaging.message.id'] === runId)!;
    expect(run.kind).toBe(5); // CONSUMER
    expect(run.traceId).not.toBe(queuedBy);
    expect(run.parentSpanId).toBe('');
    expect(run.links).toEqual([{ traceId: queuedBy, spanId: post.spanId }]);
    // the run's model calls are its children
    await receiver.waitFor('the run\'s LLM spans', () => spansOf(run.traceId).some((s) => s.attributes['gen_ai.operation.name'] === 'chat'));
    for (const s of spansOf(run.traceId).filter((x) => x.attributes['gen_ai.operation.name'] === 'chat')) expect(s.parentSpanId).toBe(run.spanId);
  });

  it('continues an incoming traceparent', async () => {
    const traceId = randomHex(16);
    const parent = randomHex(8);
    const res = await chat(baseUrl, 'hello', { traceparent: `00-${traceId}-${parent}-01` });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trace-id')).toBe(traceId);
    await receiver.waitFor('the continued server span', () => spansOf(traceId).some((s) => s.kind === 2));
    const server = spansOf(traceId).find((s) => s.kind === 2) as ReceivedSpan;
    expect(server.parentSpanId).toBe(parent);
    const llm = spansOf(traceId).filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(llm.length).toBeGreaterThan(0);
    for (const s of llm) expect(s.parentSpanId).toBe(server.spanId);
  });

  it('exports the contract metrics over OTLP: names, units, labels, buckets', async () => {
    await request(`${baseUrl}/no-such-route`);
    await receiver.waitFor(
      'every contract metric, and the 404 counted',
      () =>
        CONTRACT_FAMILIES.every((f) => NEEDS_API_KEYS.has(f) || NEEDS_A_RUN.has(f) || receiver.points.some((p) => p.metric === f)) &&
        receiver.points.some((p) => p.metric === 'agent_requests_total' && p.attributes.route === 'unmatched' && p.attributes.status === '404'),
    );
    for (const family of CONTRACT_FAMILIES) {
      const points = receiver.points.filter((p) => p.metric === family);
      for (const p of points) expect(Object.keys(p.attributes).sort(), `${family} ${JSON.stringify(p.attributes)}`).toEqual(CONTRACT_LABELS[family]);
    }
    const units = Object.fromEntries(receiver.points.map((p) => [p.metric, p.unit]));
    expect(units.agent_request_duration_seconds).toBe('s');
    expect(units.agent_llm_call_duration_seconds).toBe('s');
    const duration = receiver.points.find((p) => p.metric === 'agent_request_duration_seconds')!;
    expect(duration.type).toBe('histogram');
    expect(duration.explicitBounds).toEqual(CONTRACT_BUCKETS);
    const types = Object.fromEntries(receiver.points.map((p) => [p.metric, p.type]));
    expect(types).toMatchObject({ agent_requests_total: 'sum', agent_active_requests: 'sum', agent_token_budget_used_ratio: 'gauge' });
    const routes = new Set(receiver.points.filter((p) => p.metric === 'agent_requests_total').map((p) => p.attributes.route));
    expect(routes).toContain('/v1/chat');
    expect(routes).toContain('unmatched');
  });

  it('every metric the dashboard queries is exported', () => {
    const dash = JSON.parse(readFileSync(join(projectDir, 'deploy/grafana/dashboards/agent-service.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exported = new Set(receiver.points.map((p) => p.metric));
    for (const p of dash.panels) {
      for (const t of p.targets ?? []) {
        for (const n of metricNames(grafanaToPromql(t.expr))) expect(exported.has(n) || exported.has(familyOf(n)) || NEEDS_API_KEYS.has(n) || NEEDS_A_RUN.has(familyOf(n)), `${n} in ${t.expr}`).toBe(true);
      }
    }
  });

  it('labels stay bounded under 1,000 distinct random paths', async () => {
    const marker = `rnd${randomHex(3)}`;
    const statuses = await pool(1000, 8, async (i) => (await request(`${baseUrl}${randomPaths(1000, marker)[i]}`)).status);
    expect(new Set(statuses)).toEqual(new Set([404]));
    const seen = receiver.points.length;
    await receiver.waitFor('a metric export after the random paths', () => receiver.points.slice(seen).some((p) => p.metric === 'agent_requests_total'));
    await sleep(1500);
    const series = new Set(receiver.points.filter((p) => p.metric === 'agent_requests_total').map((p) => JSON.stringify(p.attributes)));
    expect(series.size).toBeLessThan(20);
    const all = JSON.stringify(receiver.points.map((p) => p.attributes));
    expect(all).not.toContain(marker);
    // and the spans name route templates, never raw paths
    expect(JSON.stringify(receiver.spans.map((s) => s.name))).not.toContain(marker);
  });
});
