/**
 * Background runs under worker loss (CONTRACT.md "Background runs"), black-box
 * against an api container and worker containers of the same image:
 *   - another API key gets 404 for a run (read, events, cancel);
 *   - a client reads a running run's /events, disconnects halfway and resumes with
 *     Last-Event-ID: the two parts together equal one uninterrupted read;
 *   - a running run that is cancelled ends `cancelled`;
 *   - RUNS_COUNT runs queued through the api (bounded concurrency); once the load is
 *     underway one worker gets SIGTERM and another SIGKILL, and this driver asks the
 *     orchestrator (scripts/pipeline.sh, through marker files in RUNS_CONTROL_DIR) to
 *     start a replacement for each; then every run ends `succeeded`, with exactly one
 *     `done` and at most one `retry` in its events, one "run finished" line over all
 *     the workers' logs (none where the killed worker wrote the outcome but not its line,
 *     and a takeover kept it), and no two attempts of a run overlapping in time.
 * Figures: runs/s, queue wait p50/p99 (the run objects' created_at/started_at),
 * recovery after the SIGKILL (kill -> the killed worker's runs taken over / finished).
 *
 *   RUNS_BASE_URL=http://127.0.0.1:19519 RUNS_API_KEY=k RUNS_OTHER_KEY=k2 \
 *   RUNS_SIGTERM_WORKER=a RUNS_SIGKILL_WORKER=b RUNS_WORKERS=a,b,c,d RUNS_CONTROL_DIR=dir \
 *   npx tsx test/runs/runs.ts
 *
 * Variables: RUNS_COUNT (500), RUNS_CLIENT_CONCURRENCY (32), RUNS_SIGNAL_AFTER (150 runs
 * queued), RUNS_KILL_GAP_MS (1500, SIGTERM -> SIGKILL), RUNS_STOP_TIMEOUT (15, podman
 * stop -t), RUNS_DEADLINE_S (75, for the whole load), RUNS_REPORT (JSON for the pipeline
 * report), RUNS_ENGINE (podman). Loopback only; every wait has a deadline.
 * The worker's log lines read here: "run started", "run finished", "run attempt
 * interrupted, handed back to the queue" and "run taken over after it finished, ..." (runs/execute.py), "shutdown signal received, ..."
 * (runs/worker.py), JSON (LOG_FORMAT=json) with run_id and timestamp.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const env = (k: string, d?: string) => (process.env[k] === undefined || process.env[k] === '' ? d : process.env[k]);
const required = (k: string) => {
  const v = env(k);
  if (!v) {
    console.error(`runs: ${k} is required`);
    process.exit(2);
  }
  return v;
};

const baseUrl = new URL(required('RUNS_BASE_URL'));
if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(baseUrl.hostname)) {
  console.error(`runs: loopback only, got ${baseUrl.hostname}`);
  process.exit(2);
}
const apiKey = required('RUNS_API_KEY');
const otherKey = required('RUNS_OTHER_KEY');
const termWorker = required('RUNS_SIGTERM_WORKER');
const killWorker = required('RUNS_SIGKILL_WORKER');
const workers = required('RUNS_WORKERS').split(',').filter(Boolean);
const controlDir = required('RUNS_CONTROL_DIR');
const engine = env('RUNS_ENGINE', 'podman')!;
const total = Number(env('RUNS_COUNT', '500'));
const clientConcurrency = Number(env('RUNS_CLIENT_CONCURRENCY', '32'));
const signalAfter = Number(env('RUNS_SIGNAL_AFTER', '150'));
const killGapMs = Number(env('RUNS_KILL_GAP_MS', '1500'));
const stopTimeout = Number(env('RUNS_STOP_TIMEOUT', '15'));
const deadlineS = Number(env('RUNS_DEADLINE_S', '75'));
const reportFile = env('RUNS_REPORT');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Date.now() / 1000;

interface Reply {
  status: number;
  text: string;
}

function send(method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${opts.key ?? apiKey}`, ...opts.headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({ hostname: baseUrl.hostname, port: baseUrl.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

interface Run {
  id: string;
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: { code?: string } | null;
}

const json = (r: Reply): any => {
  try {
    return JSON.parse(r.text);
  } catch {
    return undefined;
  }
};

async function queueRun(message: string): Promise<Run> {
  // One retry on a dropped connection: the api is loopback and healthy, a reset is the client's.
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await send('POST', '/v1/runs', { body: { message } });
      if (r.status !== 202) throw new Error(`POST /v1/runs: ${r.status} ${r.text.slice(0, 200)}`);
      return json(r) as Run;
    } catch (e) {
      if (attempt >= 2 || !/ECONNRESET|socket hang up/.test((e as Error).message)) throw e;
    }
  }
}

async function getRun(id: string, key = apiKey): Promise<Reply> {
  return send('GET', `/v1/runs/${id}`, { key });
}

interface Sse {
  id: number;
  event: string;
  data: string;
}

function parseSse(text: string): Sse[] {
  const out: Sse[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split('\n\n')) {
    if (!block.trim()) continue;
    let id = NaN;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id:')) id = Number(line.slice(3).trim());
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length || event !== 'message') out.push({ id, event, data: data.join('\n') });
  }
  return out;
}

/** Read a run's /events; with stopAfter, disconnect once that many complete events arrived. */
function readEvents(id: string, opts: { lastEventId?: number; stopAfter?: number; key?: string } = {}): Promise<{ status: number; events: Sse[] }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? apiKey}`, accept: 'text/event-stream' };
    if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
    const req = http.request({ hostname: baseUrl.hostname, port: baseUrl.port, path: `/v1/runs/${id}/events`, method: 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (opts.stopAfter === undefined) return;
        const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
        const events = parseSse(complete);
        if (events.length >= opts.stopAfter) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, events: events.slice(0, opts.stopAfter) });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, events: parseSse(text) }));
      res.on('error', (e) => (opts.stopAfter === undefined ? reject(e) : undefined));
    });
    req.setTimeout(60_000, () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => (req.destroyed && opts.stopAfter !== undefined ? undefined : reject(e)));
    req.end();
  });
}

async function pool<T, R>(items: T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

async function waitTerminal(id: string, deadlineMs: number): Promise<Run | undefined> {
  while (performance.now() < deadlineMs) {
    const r = json(await getRun(id)) as Run | undefined;
    if (r && ['succeeded', 'failed', 'cancelled'].includes(r.status)) return r;
    await sleep(100);
  }
  return undefined;
}

const quantile = (xs: number[], q: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const round = (x: number, d = 2) => Number(x.toFixed(d));
const ids = (xs: string[], n = 10) => (xs.length > n ? `${xs.slice(0, n).join(', ')} (+${xs.length - n} more)` : xs.join(', '));

interface LogLine {
  worker: string;
  t: number;
  event: string;
  run_id?: string;
  status?: string;
}

async function workerLog(name: string): Promise<LogLine[]> {
  const r = await run(engine, ['logs', name], { maxBuffer: 256 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string }) => ({
    stdout: e.stdout ?? '',
    stderr: e.stderr ?? '',
  }));
  const lines: LogLine[] = [];
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line);
      lines.push({ worker: name, t: Date.parse(j.timestamp) / 1000, event: String(j.event), run_id: j.run_id, status: j.status });
    } catch {
      /* not one of the service's lines */
    }
  }
  return lines;
}

const checks: { name: string; ok: boolean; detail: string }[] = [];
const check = (name: string, ok: boolean, detail = '') => {
  checks.push({ name, ok, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
};

async function isolationCheck(): Promise<void> {
  const r = await queueRun('runs isolation');
  const read = await getRun(r.id, otherKey);
  const events = await send('GET', `/v1/runs/${r.id}/events`, { key: otherKey });
  const cancel = await send('POST', `/v1/runs/${r.id}/cancel`, { key: otherKey });
  const codes = [read, events, cancel].map((x) => `${x.status} ${json(x)?.error?.code ?? x.text.slice(0, 60)}`);
  check('another API key gets 404 not_found for a run (read, events, cancel)', codes.every((c) => c === '404 not_found'), `run ${r.id}: ${codes.join('; ')}`);
}

async function resumeCheck(deadlineMs: number): Promise<void> {
  // A long message: the fake model's reply streams as many tokens over FAKE_LLM_LATENCY_MS.
  const r = await queueRun(`runs resume ${'tell me a long story about queues and workers '.repeat(4)}`);
  const whole = readEvents(r.id); // one uninterrupted read, from the start, live
  const first = await readEvents(r.id, { stopAfter: 2 });
  const lastId = first.events.at(-1)?.id ?? 0;
  const rest = await readEvents(r.id, { lastEventId: lastId });
  const full = await whole;
  const done = await waitTerminal(r.id, deadlineMs);
  const joined = [...first.events, ...rest.events];
  const same = JSON.stringify(joined) === JSON.stringify(full.events);
  const halfway = first.events.length === 2 && !first.events.some((e) => e.event === 'done') && rest.events.length > 0;
  check(
    'a client that disconnects halfway and resumes with Last-Event-ID gets one uninterrupted read (ids and data)',
    same && halfway && full.events.at(-1)?.event === 'done' && done?.status === 'succeeded',
    `run ${r.id}: ${first.events.length} events, disconnect at id ${lastId}, ${rest.events.length} after it; uninterrupted: ${full.events.length} (${full.events.map((e) => `${e.id}:${e.event}`).join(' ')})${same ? '' : `; resumed: ${joined.map((e) => `${e.id}:${e.event}`).join(' ')}`}; run ${done?.status ?? 'not finished'}`,
  );
}

async function cancelCheck(deadlineMs: number): Promise<void> {
  // A tool-using turn: model call, tool, model call; the cancel lands at the step boundary.
  const r = await queueRun('what is 6*7');
  let seen = '';
  while (performance.now() < deadlineMs) {
    const cur = json(await getRun(r.id)) as Run;
    seen = cur.status;
    if (seen !== 'queued') break;
    await sleep(20);
  }
  const c = await send('POST', `/v1/runs/${r.id}/cancel`);
  const end = await waitTerminal(r.id, deadlineMs);
  const events = await readEvents(r.id);
  const last = events.events.at(-1);
  check(
    'a running run that is cancelled ends cancelled',
    seen === 'running' && c.status === 202 && end?.status === 'cancelled' && end.error?.code === 'cancelled' && last?.event === 'error',
    `run ${r.id}: ${seen} when cancelled, cancel ${c.status}, ended ${end?.status ?? 'not finished'} (${end?.error?.code ?? '-'}), last event ${last?.event ?? 'none'}`,
  );
}

async function marker(name: string): Promise<void> {
  writeFileSync(join(controlDir, name), `${nowS()}\n`);
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const deadlineMs = t0 + deadlineS * 1000;
  const ready = await send('GET', '/ready', { timeoutMs: 5000 });
  if (ready.status !== 200) {
    check('the api is ready', false, `${ready.status} ${ready.text.slice(0, 200)}`);
    return finish({});
  }
  await Promise.all([isolationCheck(), resumeCheck(deadlineMs), cancelCheck(deadlineMs)]);

  // The load, and the two workers lost in the middle of it.
  const queued: Run[] = [];
  let signals: Promise<{ termAt: number; killAt: number; killedAt: number; termExit: string }> | undefined;
  const tLoad = nowS();
  const indexes = Array.from({ length: total }, (_, i) => i);
  const queueErrors: string[] = [];
  await pool(indexes, clientConcurrency, async (i) => {
    try {
      queued[i] = await queueRun(`runs load ${i}`);
    } catch (e) {
      queueErrors.push(`#${i}: ${(e as Error).message}`);
    }
    if (!signals && queued.filter(Boolean).length >= signalAfter) {
      signals = (async () => {
        const termAt = nowS();
        const stop = run(engine, ['stop', '-t', String(stopTimeout), termWorker], { timeout: (stopTimeout + 20) * 1000 }).then(
          () => run(engine, ['inspect', '-f', '{{.State.ExitCode}}', termWorker]).then((r) => r.stdout.trim()),
          (e: Error) => `podman stop failed: ${e.message}`,
        );
        await marker('sigterm-sent');
        await sleep(killGapMs);
        const killAt = nowS();
        await run(engine, ['kill', '-s', 'KILL', killWorker]);
        const killedAt = nowS(); // the process died between killAt and now
        await marker('sigkill-sent');
        return { termAt, killAt, killedAt, termExit: await stop };
      })();
    }
  });
  check(`${total} runs queued through the api`, queueErrors.length === 0 && queued.filter(Boolean).length === total, queueErrors.slice(0, 5).join('; '));
  const sig = await (signals ?? Promise.resolve({ termAt: NaN, killAt: NaN, killedAt: NaN, termExit: 'never signalled' }));

  // Every run to its end: poll the ones not finished yet.
  const runs = new Map<string, Run>();
  let pending = queued.filter(Boolean).map((r) => r.id);
  while (pending.length && performance.now() < deadlineMs) {
    const got = await pool(pending, clientConcurrency, async (id) => json(await getRun(id)) as Run | undefined);
    for (const r of got) if (r) runs.set(r.id, r);
    pending = pending.filter((id) => !['succeeded', 'failed', 'cancelled'].includes(runs.get(id)?.status ?? ''));
    if (pending.length) await sleep(500);
  }
  const all = [...runs.values()];
  const notSucceeded = all.filter((r) => r.status !== 'succeeded');
  check(
    `every run ends succeeded (SIGTERM to ${termWorker}, SIGKILL to ${killWorker} mid-load)`,
    pending.length === 0 && notSucceeded.length === 0 && all.length === total,
    pending.length
      ? `${pending.length} not finished within ${deadlineS} s: ${ids(pending)}`
      : notSucceeded.length
        ? `${notSucceeded.length} not succeeded: ${ids(notSucceeded.map((r) => `${r.id} ${r.status} ${r.error?.code ?? ''}`))}`
        : `${all.length} succeeded`,
  );
  check(`the SIGTERMed worker exits 0 (podman stop -t ${stopTimeout})`, sig.termExit === '0', `exit ${sig.termExit}`);

  // Black-box: each run's events hold exactly one done, at most one retry.
  const eventCounts = await pool(all, clientConcurrency, async (r) => {
    const e = await readEvents(r.id);
    return { id: r.id, done: e.events.filter((x) => x.event === 'done').length, retry: e.events.filter((x) => x.event === 'retry').length, error: e.events.filter((x) => x.event === 'error').length };
  });
  const badDone = eventCounts.filter((c) => c.done !== 1 || c.error !== 0);
  const badRetry = eventCounts.filter((c) => c.retry > 1);
  check('exactly one done (and no error) in each run\'s events', badDone.length === 0, badDone.length ? ids(badDone.map((c) => `${c.id} done=${c.done} error=${c.error}`)) : '');
  check('at most one retry in each run\'s events', badRetry.length === 0, badRetry.length ? ids(badRetry.map((c) => `${c.id} retry=${c.retry}`)) : `${eventCounts.filter((c) => c.retry === 1).length} runs retried once`);

  // The workers' logs: each attempt's start and end, per run.
  const logs = (await Promise.all(workers.map(workerLog))).flat();
  const loadIds = new Set(all.map((r) => r.id));
  interface Attempt {
    worker: string;
    start: number;
    end?: number;
    how?: string;
  }
  const attempts = new Map<string, Attempt[]>();
  const finishedLines = new Map<string, number>();
  const keptLines = new Map<string, number>();
  for (const l of logs.sort((a, b) => a.t - b.t)) {
    if (!l.run_id || !loadIds.has(l.run_id)) continue;
    const list = attempts.get(l.run_id) ?? [];
    attempts.set(l.run_id, list);
    const open = [...list].reverse().find((a) => a.worker === l.worker && a.end === undefined);
    if (l.event === 'run started') list.push({ worker: l.worker, start: l.t });
    else if (l.event === 'run finished') {
      finishedLines.set(l.run_id, (finishedLines.get(l.run_id) ?? 0) + 1);
      if (open) Object.assign(open, { end: l.t, how: 'finished' });
    } else if (l.event.startsWith('run attempt interrupted') && open) Object.assign(open, { end: l.t, how: 'handed back' });
    else if (l.event.startsWith('run taken over after it finished')) {
      // An attempt that found the outcome already recorded: it ran nothing and kept it.
      keptLines.set(l.run_id, (keptLines.get(l.run_id) ?? 0) + 1);
      list.push({ worker: l.worker, start: l.t, end: l.t, how: 'kept' });
    }
  }
  // One "run finished" per run; none only where the worker that wrote the outcome was
  // killed before its log line and a later attempt found the outcome and kept it.
  const finishCounts = [...loadIds].map((id) => ({ id, n: finishedLines.get(id) ?? 0, kept: keptLines.get(id) ?? 0 }));
  const notOnce = finishCounts.filter((c) => c.n > 1 || (c.n === 0 && c.kept === 0));
  const keptOnly = finishCounts.filter((c) => c.n === 0 && c.kept > 0);
  check(
    `one "run finished" line per run over the workers' logs, or an outcome kept by a takeover (${workers.join(', ')})`,
    notOnce.length === 0 && logs.length > 0,
    notOnce.length ? ids(notOnce.map((c) => `${c.id} x${c.n}`)) : `${logs.length} log lines read; ${keptOnly.length} ${keptOnly.length === 1 ? 'run' : 'runs'} whose outcome a takeover kept`,
  );
  // The killed worker's attempts end at the kill; no attempt may start before the previous one ended.
  const lost: string[] = [];
  const overlapping: string[] = [];
  for (const [id, list] of attempts) {
    for (const a of list) {
      if (a.end === undefined && a.worker === killWorker) {
        a.end = Math.max(a.start, sig.killedAt);
        a.how = 'killed';
        lost.push(id);
      }
    }
    const sorted = [...list].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      if (prev.end === undefined || prev.end > sorted[i]!.start) overlapping.push(`${id} (${prev.worker} until ${prev.end ?? 'never'}, ${sorted[i]!.worker} from ${sorted[i]!.start})`);
    }
  }
  check('no run executed twice at the same time (attempt intervals from the workers\' logs)', overlapping.length === 0, ids(overlapping, 5));
  check(`the SIGKILL landed mid-run (${killWorker} had runs in flight)`, lost.length > 0, `${lost.length} runs in flight on ${killWorker}: ${ids(lost, 5)}`);
  const lostRuns = lost.map((id) => runs.get(id)).filter((r): r is Run => !!r);
  const takeovers = lost.map((id) => attempts.get(id)!.filter((a) => a.worker !== killWorker && a.start > sig.killAt).map((a) => a.start)).flat();
  const untaken = lost.filter((id) => !attempts.get(id)!.some((a) => a.worker !== killWorker && a.start > sig.killAt && (a.how === 'finished' || a.how === 'kept')));
  check("every run of the killed worker was taken over and finished by another", untaken.length === 0, untaken.length ? ids(untaken) : '');

  // The SIGTERMed worker: what it had at the signal, and that it took nothing after.
  const shutdownAt = logs.find((l) => l.worker === termWorker && l.event.startsWith('shutdown signal received'))?.t;
  const termAttempts = [...attempts.values()].flat().filter((a) => a.worker === termWorker);
  const inFlightAtTerm = shutdownAt === undefined ? [] : termAttempts.filter((a) => a.start <= shutdownAt && (a.end === undefined || a.end >= shutdownAt));
  // A dequeue already waiting at the signal may still hand the worker a run (it waits
  // up to DEQUEUE_TIMEOUT_SECONDS, 1 s, runs/worker.py); nothing may start after that.
  const racedTerm = shutdownAt === undefined ? [] : termAttempts.filter((a) => a.start > shutdownAt && a.start <= shutdownAt + 1);
  const startedAfterTerm = shutdownAt === undefined ? [] : termAttempts.filter((a) => a.start > shutdownAt + 1);
  check(
    `the SIGTERMed worker (${termWorker}) had runs in flight, finished or handed them back, and took no new run`,
    shutdownAt !== undefined && inFlightAtTerm.length > 0 && startedAfterTerm.length === 0 && [...inFlightAtTerm, ...racedTerm].every((a) => a.end !== undefined),
    `${inFlightAtTerm.length} in flight at the signal (${inFlightAtTerm.filter((a) => a.how === 'finished').length} finished, ${inFlightAtTerm.filter((a) => a.how === 'handed back').length} handed back), ${racedTerm.length} from a dequeue under way at the signal, ${startedAfterTerm.length} started later`,
  );

  // Figures.
  const waits = all.filter((r) => r.started_at !== null).map((r) => r.started_at! - r.created_at);
  const lastFinish = Math.max(...all.map((r) => r.finished_at ?? NaN));
  const firstCreate = Math.min(...all.map((r) => r.created_at));
  const figures = {
    runs: all.length,
    succeeded: all.length - notSucceeded.length,
    workers: workers.length,
    runs_per_s: round(all.length / (lastFinish - firstCreate), 1),
    load_s: round(lastFinish - firstCreate, 1),
    queue_wait_s: { p50: round(quantile(waits, 0.5), 3), p99: round(quantile(waits, 0.99), 3) },
    sigterm: { in_flight: inFlightAtTerm.length, taken_by_a_dequeue_under_way: racedTerm.length, finished_in_grace: inFlightAtTerm.filter((a) => a.how === 'finished').length, handed_back: inFlightAtTerm.filter((a) => a.how === 'handed back').length, exit: sig.termExit },
    sigkill: {
      runs_lost: lost.length,
      // the first and the last of its runs started again by another worker (behind the queue's backlog)
      taken_over_after_s: takeovers.length ? { first: round(Math.min(...takeovers) - sig.killAt), last: round(Math.max(...takeovers) - sig.killAt) } : null,
      recovered_after_s: lostRuns.length ? round(Math.max(...lostRuns.map((r) => r.finished_at ?? NaN)) - sig.killAt) : null,
    },
    retried_runs: eventCounts.filter((c) => c.retry === 1).length,
    // taken over after their final event was written: the outcome kept, the turn not run again
    outcomes_kept_on_takeover: logs.filter((l) => l.run_id && loadIds.has(l.run_id) && l.event.startsWith('run taken over after it finished')).length,
    load_started_at: tLoad,
    seconds: round((performance.now() - t0) / 1000, 1),
  };
  console.log(
    `figures: ${figures.runs_per_s} runs/s over ${figures.load_s} s, queue wait p50 ${figures.queue_wait_s.p50} s p99 ${figures.queue_wait_s.p99} s, ` +
      `SIGKILL: ${lost.length} runs lost, taken over after ${figures.sigkill.taken_over_after_s?.first}-${figures.sigkill.taken_over_after_s?.last} s, all finished after ${figures.sigkill.recovered_after_s} s`,
  );
  return finish(figures);
}

function finish(figures: Record<string, unknown>): number {
  const failed = checks.filter((c) => !c.ok).length;
  if (reportFile) writeFileSync(reportFile, `${JSON.stringify({ passed: failed === 0 && checks.length > 0, checks, ...figures }, null, 2)}\n`);
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (!existsSync(controlDir)) {
  console.error(`runs: RUNS_CONTROL_DIR ${controlDir} does not exist`);
  process.exit(2);
}
main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`runs: ${(e as Error).stack ?? e}`);
    finish({});
    process.exit(1);
  },
);
