// CONTRACT.md "Metrics": names, types, labels, buckets; skipped when /metrics is 404
// (a stack without a scrape endpoint).
import { beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { header } from './lib/shapes.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(/\s+/);
      types.set(name!, type!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l: RegExpExecArray | null;
      while ((l = re.exec(m[3]))) labels[l[1]!] = l[2]!;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return { samples, types };
}

const SENTINEL = 'conformance-raw-path-sentinel-7f3a';
let text = '';
let enabled = false;
let parsed: ReturnType<typeof parseExposition>;

beforeAll(async () => {
  const probe = await get('/metrics', authHeaders());
  if (probe.status === 404) return;
  enabled = true;
  // Make sure every family has observations: a plain turn, a tool turn, a 404 with a raw path.
  await postJson('/v1/chat', { message: 'hello' }, authHeaders());
  if (config.fakeModel) await postJson('/v1/chat', { message: 'what is 6*7' }, authHeaders());
  await get(`/${SENTINEL}/123`, authHeaders());
  await get(`/v1/${SENTINEL}`, authHeaders());
  const res = await get('/metrics', authHeaders());
  expect(res.status).toBe(200);
  expect(header(res, 'content-type')).toMatch(/^text\/plain|^application\/openmetrics-text/);
  text = res.text;
  parsed = parseExposition(text);
});

describe('GET /metrics', () => {
  it('is Prometheus text with every contract family', ({ skip }) => {
    if (!enabled) skip();
    const want: [string, string][] = [
      ['agent_requests_total', 'counter'],
      ['agent_request_duration_seconds', 'histogram'],
      ['agent_active_requests', 'gauge'],
      ['agent_llm_calls_total', 'counter'],
      ['agent_llm_call_duration_seconds', 'histogram'],
      ['agent_tokens_total', 'counter'],
      ['agent_tool_calls_total', 'counter'],
      ['agent_token_budget_used_ratio', 'gauge'],
    ];
    for (const [name, type] of want) {
      // prometheus_client declares counters without the _total suffix in # TYPE.
      const declared = parsed.types.get(name) ?? parsed.types.get(name.replace(/_total$/, ''));
      expect(declared, `# TYPE of ${name}`).toBe(type);
    }
  });

  it('labels requests by route template, method and status', ({ skip }) => {
    if (!enabled) skip();
    const req = parsed.samples.filter((s) => s.name === 'agent_requests_total');
    expect(req.length).toBeGreaterThan(0);
    for (const s of req) expect(Object.keys(s.labels).sort()).toEqual(expect.arrayContaining(['method', 'route', 'status']));
    const routes = [...new Set(req.map((s) => `${s.labels.method} ${s.labels.route} ${s.labels.status}`))].join(', ');
    expect(
      req.some((s) => s.labels.route === '/v1/chat' && s.labels.method === 'POST' && s.labels.status === '200' && s.value >= 1),
      `a sample route="/v1/chat",method="POST",status="200"; seen: ${routes}`,
    ).toBe(true);
    expect(text.includes(SENTINEL), 'a raw path became a label value').toBe(false);
    expect(text.includes('/123'), 'a raw path became a label value').toBe(false);
  });

  it('has the contract buckets on agent_request_duration_seconds', ({ skip }) => {
    if (!enabled) skip();
    const les = new Set(
      parsed.samples
        .filter((s) => s.name === 'agent_request_duration_seconds_bucket' && s.labels.route === '/v1/chat')
        .map((s) => s.labels.le),
    );
    const got = [...les].map((l) => (l === '+Inf' ? Infinity : Number(l))).sort((a, b) => a - b);
    expect(got, 'le values of agent_request_duration_seconds_bucket{route="/v1/chat"}').toEqual([0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, Infinity]);
    for (const s of parsed.samples.filter((x) => x.name.startsWith('agent_request_duration_seconds'))) {
      expect(Object.keys(s.labels)).not.toContain('status');
    }
  });

  it('counts LLM calls, tokens and tool calls with their labels', ({ skip }) => {
    if (!enabled) skip();
    const llm = parsed.samples.filter((s) => s.name === 'agent_llm_calls_total');
    expect(llm.some((s) => s.labels.model !== undefined && s.labels.status !== undefined && s.value >= 1)).toBe(true);
    const tokens = parsed.samples.filter((s) => s.name === 'agent_tokens_total');
    // cached_input: prompt tokens the provider read from its cache (the fake model's repeated prefix)
    const types = new Set(tokens.map((s) => s.labels.type));
    expect(types.has('input') && types.has('output'), [...types].join(', ')).toBe(true);
    for (const t of types) expect(['input', 'cached_input', 'output']).toContain(t);
    expect(parsed.samples.some((s) => s.name === 'agent_llm_call_duration_seconds_count' && s.labels.model !== undefined)).toBe(true);
    if (config.fakeModel) {
      const tools = parsed.samples.filter((s) => s.name === 'agent_tool_calls_total');
      expect(tools.some((s) => s.labels.tool !== undefined && s.labels.status === 'ok' && s.value >= 1)).toBe(true);
    }
  });

  it('exposes the active-requests gauge (and the budget gauge, when set) as numbers', ({ skip }) => {
    if (!enabled) skip();
    const active = parsed.samples.filter((x) => x.name === 'agent_active_requests');
    expect(active.length, 'agent_active_requests has a sample').toBeGreaterThan(0);
    // With TOKEN_BUDGET_DAILY=0 (unlimited) the ratio may have no sample yet; its # TYPE is checked above.
    for (const x of [...active, ...parsed.samples.filter((s) => s.name === 'agent_token_budget_used_ratio')]) {
      expect(Number.isFinite(x.value), x.name).toBe(true);
      expect(x.value, x.name).toBeGreaterThanOrEqual(0);
    }
  });
});
