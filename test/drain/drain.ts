/**
 * Drain under load (CONTRACT.md "Lifecycle"): with >= DRAIN_REQUESTS requests in
 * flight (a share of them SSE streams), SIGTERM the service; then
 *   - every request that started before the signal completes 200 (streams end with `done`),
 *   - /ready answers 503 while draining,
 *   - new work after the signal gets 503 shutting_down (or the connection is refused),
 *   - the process exits 0 within SHUTDOWN_TIMEOUT.
 * Run the service with FAKE_LLM_LATENCY_MS (~2500) so requests last long enough.
 *
 *   DRAIN_BASE_URL=http://127.0.0.1:18310 DRAIN_CONTAINER=name npx tsx test/drain/drain.ts
 *
 * Variables: DRAIN_BASE_URL (required); DRAIN_CONTAINER (podman container to signal
 * and wait for) or DRAIN_PID (a local process); DRAIN_API_KEY; DRAIN_REQUESTS (120);
 * DRAIN_STREAM_SHARE (0.3); DRAIN_SHUTDOWN_TIMEOUT (25, the service's SHUTDOWN_TIMEOUT);
 * DRAIN_SETTLE_MS (1000, wait between sending and signalling); DRAIN_REPORT (a JSON
 * file for the pipeline's report); DRAIN_ENGINE (podman).
 * Loopback only, bounded: one batch of requests, every wait has a deadline.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);
const env = (k: string, d?: string) => (process.env[k] === undefined || process.env[k] === '' ? d : process.env[k]);

const base = env('DRAIN_BASE_URL');
if (!base) {
  console.error('drain: DRAIN_BASE_URL is required');
  process.exit(2);
}
const baseUrl = new URL(base);
if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(baseUrl.hostname)) {
  console.error(`drain: loopback only, got ${baseUrl.hostname}`);
  process.exit(2);
}
const container = env('DRAIN_CONTAINER');
const pid = env('DRAIN_PID') ? Number(env('DRAIN_PID')) : undefined;
if (!container && !pid) {
  console.error('drain: set DRAIN_CONTAINER (podman) or DRAIN_PID (local process)');
  process.exit(2);
}
const engine = env('DRAIN_ENGINE', 'podman')!;
const apiKey = env('DRAIN_API_KEY');
const total = Number(env('DRAIN_REQUESTS', '120'));
const streamShare = Number(env('DRAIN_STREAM_SHARE', '0.3'));
const shutdownTimeout = Number(env('DRAIN_SHUTDOWN_TIMEOUT', '25'));
const settleMs = Number(env('DRAIN_SETTLE_MS', '1000'));
const reportFile = env('DRAIN_REPORT');

interface Outcome {
  kind: 'chat' | 'stream';
  status: number;
  ok: boolean;
  detail: string;
  endedAt: number;
}

function send(
  method: string,
  path: string,
  body?: string,
  opts: { timeoutMs?: number; onFlushed?: () => void } = {},
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request(
      { hostname: baseUrl.hostname, port: baseUrl.port, path, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? (shutdownTimeout + 30) * 1000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.on('finish', () => opts.onFlushed?.());
    req.end(body);
  });
}

function lastEvent(text: string): { event: string; data: string } | undefined {
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n').filter((b) => b.trim() !== '');
  const last = blocks.at(-1);
  if (!last) return undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of last.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return { event, data: data.join('\n') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const checks: { name: string; ok: boolean; detail: string }[] = [];
  const check = (name: string, ok: boolean, detail = '') => {
    checks.push({ name, ok, detail });
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  };

  const ready = await send('GET', '/ready', undefined, { timeoutMs: 5000 });
  if (ready.status !== 200) {
    check('service is ready before the test', false, `${ready.status} ${ready.text.slice(0, 200)}`);
    return finish(checks, {});
  }

  // 1. the load: one connection per request, all sent at once.
  const streams = Math.round(total * streamShare);
  let flushed = 0;
  const t0 = performance.now();
  const outcomes: Promise<Outcome>[] = Array.from({ length: total }, (_, i) => {
    // `streams` of the `total` requests are streams, spread evenly.
    const kind: Outcome['kind'] = Math.floor(((i + 1) * streams) / total) > Math.floor((i * streams) / total) ? 'stream' : 'chat';
    const path = kind === 'stream' ? '/v1/chat/stream' : '/v1/chat';
    return send('POST', path, JSON.stringify({ message: `drain request ${i}` }), { onFlushed: () => flushed++ }).then(
      (r) => {
        let ok = r.status === 200;
        let detail = `${r.status}`;
        if (ok && kind === 'stream') {
          const ev = lastEvent(r.text);
          ok = ev?.event === 'done';
          detail = `200, last event ${ev?.event ?? 'none'} ${ev?.event === 'error' ? ev.data.slice(0, 200) : ''}`;
        } else if (!ok) detail = `${r.status} ${r.text.slice(0, 200)}`;
        return { kind, status: r.status, ok, detail, endedAt: performance.now() - t0 };
      },
      (e: Error) => ({ kind, status: 0, ok: false, detail: `no response: ${e.message}`, endedAt: performance.now() - t0 }),
    );
  });

  // 2. wait until every request is on the wire, then let the server pick them up.
  const flushDeadline = performance.now() + 10_000;
  while (flushed < total && performance.now() < flushDeadline) await sleep(20);
  await sleep(settleMs);
  const settled: Outcome[] = [];
  for (const o of outcomes) o.then((x) => settled.push(x));
  await sleep(0);
  const doneBeforeSignal = settled.length;
  const inFlight = total - doneBeforeSignal;
  check(`>= 100 requests in flight at the signal`, inFlight >= Math.min(100, total), `${inFlight} in flight (${streams} streams), ${doneBeforeSignal} already finished, ${flushed} sent`);

  // 3. SIGTERM
  const tSignal = performance.now();
  if (container) await run(engine, ['kill', '--signal', 'TERM', container]);
  else process.kill(pid!, 'SIGTERM');
  const exitWait: Promise<{ code: number | null; afterMs: number; error?: string }> = container
    ? run(engine, ['wait', container], { timeout: (shutdownTimeout + 30) * 1000 }).then(
        (r) => ({ code: Number(r.stdout.trim()), afterMs: performance.now() - tSignal }),
        (e: Error) => ({ code: null, afterMs: performance.now() - tSignal, error: e.message }),
      )
    : waitPid(pid!, tSignal);

  // 4. /ready turns 503; new work is refused with 503 shutting_down (or not accepted at all).
  let readySeen: string | undefined;
  let readyLog: string[] = [];
  const readyDeadline = performance.now() + 5000;
  while (performance.now() < readyDeadline && !readySeen) {
    try {
      const r = await send('GET', '/ready', undefined, { timeoutMs: 2000 });
      readyLog.push(String(r.status));
      if (r.status === 503) readySeen = r.text;
    } catch (e) {
      readyLog.push((e as Error).message.split(' ')[0] ?? 'error');
    }
    if (!readySeen) await sleep(50);
  }
  let readyBody: any;
  try {
    readyBody = readySeen ? JSON.parse(readySeen) : undefined;
  } catch {
    readyBody = undefined;
  }
  check(
    '/ready turns 503 shutting_down while draining',
    !!readySeen && readyBody?.status === 'shutting_down',
    readySeen ? `503 ${readySeen.slice(0, 120)} after ${readyLog.length} polls` : `never 503; saw ${[...new Set(readyLog)].join(',')}`,
  );

  let newWork: string;
  let newWorkOk: boolean;
  try {
    const r = await send('POST', '/v1/chat', JSON.stringify({ message: 'after the signal' }), { timeoutMs: (shutdownTimeout + 5) * 1000 });
    let code: string | undefined;
    try {
      code = JSON.parse(r.text)?.error?.code;
    } catch {
      code = undefined;
    }
    newWorkOk = r.status === 503 && code === 'shutting_down';
    newWork = `${r.status} ${code ?? r.text.slice(0, 100)}`;
  } catch (e) {
    newWorkOk = true; // the socket is closed: also a refusal
    newWork = `refused (${(e as Error).message})`;
  }
  check('new work after the signal is refused (503 shutting_down or no connection)', newWorkOk, newWork);

  // 5. every request that started before the signal completes.
  const results = await Promise.all(outcomes);
  const failed = results.filter((r) => !r.ok);
  const byDetail = new Map<string, number>();
  for (const f of failed) byDetail.set(`${f.kind}: ${f.detail}`, (byDetail.get(`${f.kind}: ${f.detail}`) ?? 0) + 1);
  check(
    `every request started before the signal completes 200 (${results.filter((r) => r.kind === 'stream').length} streams end with done)`,
    failed.length === 0,
    failed.length ? `${failed.length} failed: ${[...byDetail].map(([d, n]) => `${n}x ${d}`).join('; ')}` : `${results.length} ok, last one ${Math.round(Math.max(...results.map((r) => r.endedAt)) - (tSignal - t0))} ms after the signal`,
  );

  // 6. the process exits 0 within SHUTDOWN_TIMEOUT.
  const exit = await exitWait;
  const within = exit.afterMs <= shutdownTimeout * 1000 + 1000; // +1 s for the engine's own teardown
  check(
    `exits 0 within SHUTDOWN_TIMEOUT (${shutdownTimeout} s)`,
    exit.code === 0 && within,
    `exit ${exit.code ?? exit.error} after ${(exit.afterMs / 1000).toFixed(2)} s`,
  );

  return finish(checks, {
    requests: total,
    streams: results.filter((r) => r.kind === 'stream').length,
    in_flight_at_signal: inFlight,
    failed: failed.length,
    exit_code: exit.code,
    exit_after_s: Number((exit.afterMs / 1000).toFixed(2)),
    ready_503: !!readySeen,
    new_work: newWork,
  });
}

function waitPid(p: number, tSignal: number): Promise<{ code: number | null; afterMs: number; error?: string }> {
  // A process we did not spawn: we can see that it ended, not its status.
  return new Promise((resolve) => {
    const deadline = performance.now() + (shutdownTimeout + 30) * 1000;
    const tick = () => {
      try {
        process.kill(p, 0);
      } catch {
        return resolve({ code: 0, afterMs: performance.now() - tSignal, error: 'exit status unknown (not our child)' });
      }
      if (performance.now() > deadline) return resolve({ code: null, afterMs: performance.now() - tSignal, error: 'still running' });
      setTimeout(tick, 50);
    };
    tick();
  });
}

function finish(checks: { name: string; ok: boolean; detail: string }[], facts: Record<string, unknown>): number {
  const failed = checks.filter((c) => !c.ok).length;
  if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed: failed === 0, checks, ...facts }, null, 2) + '\n');
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`drain: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
