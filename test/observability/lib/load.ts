/** Small HTTP helpers for the live observability tests. */
import { randomBytes } from 'node:crypto';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

export async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export async function chat(baseUrl: string, message: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(`${baseUrl}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ message }),
  });
}

/** Run jobs with a bounded number in flight. */
export async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await job(i);
    }
  });
  await Promise.all(workers);
  return out;
}

export const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

/** 1,000 distinct random paths: a fixed marker plus random segments. */
export function randomPaths(n: number, marker: string): string[] {
  return Array.from({ length: n }, (_, i) => `/${marker}${randomHex(6)}/${i}/${randomHex(4)}${i % 3 === 0 ? `?q=${randomHex(3)}` : ''}`);
}

export const CONTRACT_FAMILIES = [
  'agent_requests_total',
  'agent_request_duration_seconds',
  'agent_active_requests',
  'agent_llm_calls_total',
  'agent_llm_call_duration_seconds',
  'agent_tokens_total',
  'agent_tool_calls_total',
  'agent_token_budget_used_ratio',
  'agent_cost_usd_total',
  'agent_key_token_budget_used_ratio',
  'agent_runs_total',
  'agent_run_duration_seconds',
  'agent_queue_wait_seconds',
  'agent_queue_depth',
] as const;

/**
 * Families only exported once an API key spends on KEY_TOKEN_BUDGET_DAILY: the live
 * checks run the service without API keys (they send none), so these have no series
 * there; the layers' own tests and the conformance budget pass cover them.
 */
export const NEEDS_API_KEYS: ReadonlySet<string> = new Set(['agent_key_token_budget_used_ratio']);

/**
 * Histograms the OpenTelemetry stack exports only once a run executed: the otel live
 * checks run no worker (a shared store's runs wait for one). The prometheus stack
 * exports them at 0 from the start; the layers' and the runs' own tests cover both.
 */
export const NEEDS_A_RUN: ReadonlySet<string> = new Set(['agent_run_duration_seconds', 'agent_queue_wait_seconds']);

/** A price for the fake model, so that agent_cost_usd_total has series in the live checks. */
export const FAKE_MODEL_PRICES = '{"fake": {"input": 1, "output": 4, "cached_input": 0.5}}';

export const CONTRACT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** Contract labels of each family (CONTRACT.md). */
export const CONTRACT_LABELS: Record<string, string[]> = {
  agent_requests_total: ['method', 'route', 'status'],
  agent_request_duration_seconds: ['method', 'route'],
  agent_active_requests: [],
  agent_llm_calls_total: ['model', 'status'],
  agent_llm_call_duration_seconds: ['model'],
  agent_tokens_total: ['model', 'type'],
  agent_tool_calls_total: ['status', 'tool'],
  agent_token_budget_used_ratio: [],
  agent_cost_usd_total: ['model'],
  agent_key_token_budget_used_ratio: ['key_id'],
  agent_runs_total: ['status'],
  agent_run_duration_seconds: [],
  agent_queue_wait_seconds: [],
  agent_queue_depth: [],
};
