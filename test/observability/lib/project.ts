/**
 * The generated project under test, the service process and a real Prometheus.
 * Environment (see scripts/verify-observability.sh):
 *   OBS_PROJECT_DIR  generated project (uv sync --frozen done), required by the live tests
 *   OBS_BASE_URL     a service already running (else the tests start `python -m <pkg>`)
 *   OBS_PORT_BASE    first of the ports the tests use (default 18200: service +10,
 *                    run worker +15, Prometheus +20, OTLP receiver +40)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_MODEL_PRICES } from './load.js';

export const projectDir = process.env.OBS_PROJECT_DIR ?? '';
export const externalBaseUrl = (process.env.OBS_BASE_URL ?? '').replace(/\/+$/, '');
const portBase = Number(process.env.OBS_PORT_BASE ?? '18200');
export const ports = { service: portBase + 10, worker: portBase + 15, prometheus: portBase + 20, otlp: portBase + 40 };

export interface Answers {
  name: string;
  observability: 'prometheus' | 'otel' | 'minimal';
  port: number;
  [k: string]: unknown;
}

export function answers(dir = projectDir): Answers | undefined {
  const file = join(dir, '.agent-service.json');
  if (!dir || !existsSync(file)) return undefined;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { answers?: Answers } & Answers;
  return doc.answers ?? doc;
}

/**
 * Workers (and the store behind them) for a service the tests start: two workers, so the
 * multiprocess paths run (Prometheus' aggregation, one OTel instance per worker), where a
 * shared store backs them (its URL in REDIS_URL / DATABASE_URL, as the pipeline sets);
 * else one, the only count the memory store allows. OBS_WORKERS overrides the count.
 */
export function workerEnv(a: Answers): Record<string, string> {
  const urlVar = a.store === 'redis' ? 'REDIS_URL' : a.store === 'postgres' ? 'DATABASE_URL' : '';
  const url = urlVar ? process.env[urlVar] : undefined;
  const shared: Record<string, string> = url ? { SESSION_STORE: String(a.store), [urlVar]: url } : {};
  return { WORKERS: process.env.OBS_WORKERS ?? (url ? '2' : '1'), ...shared };
}

export function pkgOf(name: string): string {
  return name.replaceAll('-', '_');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitHttp(url: string, timeoutMs: number, ok = (s: number) => s === 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (ok(res.status)) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms (${last})`);
}

/** The generated service as a process, logs kept (JSON lines on stdout). */
export class ServiceProcess {
  child: ChildProcess | undefined;
  stdout: string[] = [];
  stderr = '';
  baseUrl = '';

  async start(dir: string, port: number, env: Record<string, string>): Promise<void> {
    const a = answers(dir);
    if (!a) throw new Error(`${dir}: no .agent-service.json`);
    const python = join(dir, '.venv', 'bin', 'python');
    if (!existsSync(python)) throw new Error(`${python} missing: run \`uv sync --frozen\` in ${dir} first`);
    const childEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...workerEnv(a),
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ENVIRONMENT: 'development',
      TOKEN_BUDGET_DAILY: '1000000',
      LLM_PRICES: FAKE_MODEL_PRICES,
      ...env,
    };
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.child = spawn(python, ['-m', pkgOf(a.name)], { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout!.on('data', (c: Buffer) => {
      const lines = (partial + c.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      this.stdout.push(...lines.filter((l) => l.trim() !== ''));
    });
    this.child.stderr!.on('data', (c: Buffer) => {
      this.stderr += c.toString('utf8');
    });
    try {
      await waitHttp(`${this.baseUrl}/ready`, 90_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nstdout:\n${this.stdout.slice(-20).join('\n')}\nstderr:\n${this.stderr.slice(-3000)}`);
    }
  }

  /** JSON log lines (stdout and stderr), parsed; non-JSON lines skipped. */
  logLines(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of [...this.stdout, ...this.stderr.split('\n')]) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not a JSON line */
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Debian's prometheus binary with a generated config, storage in a temp dir. */
export class PrometheusProcess {
  child: ChildProcess | undefined;
  dir = '';
  log = '';
  url = '';

  async start(port: number, config: string): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'obs-prometheus-'));
    writeFileSync(join(this.dir, 'prometheus.yml'), config);
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      process.env.PROMETHEUS_BIN ?? 'prometheus',
      [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (c: Buffer) => (this.log += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
    try {
      await waitHttp(`${this.url}/-/ready`, 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.log.slice(-3000)}`);
    }
  }

  async query(expr: string): Promise<{ status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] } }> {
    const res = await fetch(`${this.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: expr }).toString(),
    });
    return (await res.json()) as never;
  }

  async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    return (await res.json()) as T;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The generated rule files (deploy/prometheus/rules/*.yml). */
export function ruleFiles(dir = projectDir): string[] {
  const rulesDir = join(dir, 'deploy', 'prometheus', 'rules');
  if (!existsSync(rulesDir)) return [];
  return readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => join(rulesDir, f));
}
