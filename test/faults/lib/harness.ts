/**
 * What every fault-suite file shares: the service under test (from the environment,
 * set by scripts/pipeline.sh's `faults` stage), a small HTTP client, RSS sampling
 * inside the container, and the per-concern report fragment.
 *
 *   FAULTS_BASE_URL        the service (loopback only)
 *   FAULTS_API_KEY         its API key, if any
 *   FAULTS_CONTAINER       the container, for RSS (/proc via `exec`); FAULTS_ENGINE (podman)
 *   FAULTS_UPSTREAM_PORT   where the misbehaving upstream must listen (the container's LLM_BASE_URL)
 *   FAULTS_STORE           memory | redis | postgres (the store the container uses)
 *   FAULTS_REPORT_DIR      where each file writes faults-<concern>.json
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const env = (k: string, d = ''): string => process.env[k] || d;

export const faults = {
  baseUrl: env('FAULTS_BASE_URL'),
  apiKey: env('FAULTS_API_KEY'),
  container: env('FAULTS_CONTAINER'),
  engine: env('FAULTS_ENGINE', 'podman'),
  upstreamPort: Number(env('FAULTS_UPSTREAM_PORT', '0')),
  store: env('FAULTS_STORE', 'memory'),
  reportDir: env('FAULTS_REPORT_DIR'),
};
export const configured = Boolean(faults.baseUrl);
if (configured) {
  const host = new URL(faults.baseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`faults: loopback only, got ${host}`);
}

export interface Reply {
  status: number;
  text: string;
  ms: number;
  /** 0 when the connection failed (refused, reset) before a status came. */
  error?: string;
}

export function post(path: string, body: unknown, timeoutMs = 60_000): Promise<Reply> {
  const url = new URL(path, faults.baseUrl);
  const data = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
  if (faults.apiKey) headers.authorization = `Bearer ${faults.apiKey}`;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', (e) => resolve({ status: 0, text: '', ms: performance.now() - t0, error: e.message }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ status: 0, text: '', ms: performance.now() - t0, error: e.message }));
    req.end(data);
  });
}

export const chat = (message: string, sessionId?: string, timeoutMs?: number) =>
  post('/v1/chat', sessionId ? { message, session_id: sessionId } : { message }, timeoutMs);

export function sseEvents(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      const lines = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
      return { event: String(lines.event), data: JSON.parse(String(lines.data)) as Record<string, unknown> };
    });
}

/** The contract's error code of a reply, or undefined. */
export function errorCode(reply: Reply): string | undefined {
  try {
    return (JSON.parse(reply.text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** The resident memory of every process in the container, in bytes (VmRSS from /proc). */
export async function containerRss(): Promise<number | undefined> {
  if (!faults.container) return undefined;
  try {
    const { stdout } = await run(faults.engine, ['exec', faults.container, 'sh', '-c', 'cat /proc/[0-9]*/status 2>/dev/null'], { timeout: 10_000 });
    let kb = 0;
    for (const m of stdout.matchAll(/^VmRSS:\s+(\d+)\s+kB/gm)) kb += Number(m[1]);
    return kb * 1024;
  } catch {
    return undefined;
  }
}

/** Samples containerRss() every `everyMs` until stop(); before/peak/after in MB. */
export function rssSampler(everyMs = 500) {
  const samples: number[] = [];
  let before: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  return {
    async start() {
      before = await containerRss();
      if (before !== undefined) samples.push(before);
      timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        const v = await containerRss();
        if (v !== undefined) samples.push(v);
        busy = false;
      }, everyMs);
    },
    async stop() {
      clearInterval(timer);
      const after = await containerRss();
      if (after !== undefined) samples.push(after);
      const mb = (b: number | undefined) => (b === undefined ? undefined : Number((b / 1e6).toFixed(1)));
      return { before_mb: mb(before), peak_mb: mb(samples.length ? Math.max(...samples) : undefined), after_mb: mb(after) };
    },
  };
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** Writes this concern's figures for the pipeline report (faults-<concern>.json). */
export function writeFragment(concern: string, figures: Record<string, unknown>): void {
  if (!faults.reportDir) return;
  mkdirSync(faults.reportDir, { recursive: true });
  writeFileSync(join(faults.reportDir, `faults-${concern}.json`), `${JSON.stringify({ concern, ...figures }, null, 2)}\n`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
