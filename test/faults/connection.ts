/**
 * Connection-level faults against the hardened container (issue 14 item 1, CONTRACT.md
 * "Errors" and "Configuration"): a hostile client with no key, loopback only, every
 * attack bounded in connections, bytes and time.
 *
 *   - header bomb: 20 connections each sending up to 16 MB of one unfinished header;
 *     the container's RSS (every process, from /proc inside it) before, at its peak, after;
 *     fails when it grows by 20 MB or more, or a connection is let send its whole 16 MB
 *   - a 17 KiB request head: 431 request_header_too_large, JSON
 *   - malformed HTTP (negative Content-Length, Content-Length with Transfer-Encoding,
 *     a space in a header name): 400 bad_request, JSON, with X-Request-ID
 *   - slowloris: 600 connections sending one header line every 5 s, and 300 idle
 *     connections sending nothing, at once: every one closed within HEADER_READ_TIMEOUT
 *     (+ 3 s), and /health still answers meanwhile
 *   - a chunked body that never ends: 408 request_timeout within BODY_READ_TIMEOUT (+ 3 s)
 *   - SIGTERM while such a body is in flight: exit 0, not later than BODY_READ_TIMEOUT (+ 5 s)
 *     after the signal (this ends the container, so it runs last)
 *
 *   FAULT_BASE_URL=http://127.0.0.1:19903 FAULT_CONTAINER=name npx tsx test/faults/connection.ts
 *
 * Variables: FAULT_BASE_URL, FAULT_CONTAINER (required); FAULT_ENGINE (podman);
 * FAULT_HEADER_READ_TIMEOUT (10), FAULT_BODY_READ_TIMEOUT (15): the container's settings;
 * FAULT_REPORT: a JSON file of the figures for the pipeline's report.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const env = (k: string, d?: string) => (process.env[k] === undefined || process.env[k] === '' ? d : process.env[k]);

const base = env('FAULT_BASE_URL');
const container = env('FAULT_CONTAINER');
if (!base || !container) {
  console.error('faults: FAULT_BASE_URL and FAULT_CONTAINER are required');
  process.exit(2);
}
const url = new URL(base);
if (!['127.0.0.1', 'localhost'].includes(url.hostname)) {
  console.error(`faults: loopback only, got ${url.hostname}`);
  process.exit(2);
}
const host = url.hostname;
const port = Number(url.port);
const engine = env('FAULT_ENGINE', 'podman')!;
const headerTimeoutS = Number(env('FAULT_HEADER_READ_TIMEOUT', '10'));
const bodyTimeoutS = Number(env('FAULT_BODY_READ_TIMEOUT', '15'));
const reportFile = env('FAULT_REPORT');

const MB = 1024 * 1024;
const BOMB_CONNECTIONS = 20;
const BOMB_BYTES = 16 * MB;
// 900 in all: below one worker's MAX_CONNECTIONS (1000) and its open-file limit (1024), so
// /health must still answer during the attack; the memory-store presets run one worker.
const SLOW_CONNECTIONS = 600;
const IDLE_CONNECTIONS = 300;
const RSS_GROWTH_LIMIT_MB = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const results: { name: string; ok: boolean; detail: string }[] = [];
const figures: Record<string, unknown> = {};
function check(name: string, ok: boolean, detail: string) {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
}

/** The container's resident memory: VmRSS of every process in it, in MB. */
async function containerRssMb(): Promise<number> {
  const { stdout } = await run(engine, ['exec', container!, 'sh', '-c', 'cat /proc/[0-9]*/status 2>/dev/null'], {
    timeout: 10_000,
  });
  let kb = 0;
  for (const m of stdout.matchAll(/^VmRSS:\s+(\d+) kB/gm)) kb += Number(m[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

interface Conn {
  socket: net.Socket;
  received: Buffer;
  closedAt?: number;
  sent: number;
}

function connect(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const conn: Conn = { socket, received: Buffer.alloc(0), sent: 0 };
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      if (conn.received.length < 65536) conn.received = Buffer.concat([conn.received, d]);
    });
    socket.on('close', () => {
      conn.closedAt ??= Date.now();
    });
    socket.on('error', () => {
      conn.closedAt ??= Date.now();
    });
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

function write(conn: Conn, data: Buffer | string): Promise<boolean> {
  return new Promise((resolve) => {
    if (conn.closedAt || conn.socket.destroyed) return resolve(false);
    conn.socket.write(data, (err) => {
      if (!err) conn.sent += Buffer.byteLength(data);
      resolve(!err);
    });
  });
}

async function waitClosed(conns: Conn[], deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs && conns.some((c) => !c.closedAt)) await sleep(100);
}

/** status, content type, x-request-id and error code of the first response on a connection. */
function parseResponse(buf: Buffer) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let code: string | undefined;
  try {
    code = JSON.parse(text.slice(end + 4)).error?.code;
  } catch {
    code = undefined;
  }
  return { status: Number((statusLine ?? '').split(' ')[1]), headers, code };
}

async function exchange(raw: string, waitMs = 5000) {
  const conn = await connect();
  await write(conn, raw);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && !conn.closedAt && !parseResponse(conn.received)) await sleep(20);
  await sleep(50);
  conn.socket.destroy();
  return parseResponse(conn.received);
}

async function health(): Promise<number> {
  const r = await exchange(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  return r?.status ?? 0;
}

async function headerBomb() {
  const before = await containerRssMb();
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await containerRssMb().catch(() => peak));
      await sleep(200);
    }
  })();
  const conns = await Promise.all(Array.from({ length: BOMB_CONNECTIONS }, () => connect()));
  const chunk = Buffer.alloc(65536, 'a');
  const started = Date.now();
  await Promise.all(
    conns.map(async (c) => {
      if (!(await write(c, `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Bomb: `))) return;
      while (c.sent < BOMB_BYTES && Date.now() - started < 20_000) {
        if (!(await write(c, chunk))) return;
      }
    }),
  );
  await sleep(1000);
  sampling = false;
  await sampler;
  peak = Math.max(peak, await containerRssMb());
  for (const c of conns) c.socket.destroy();
  await sleep(2000);
  const after = await containerRssMb();
  const maxSentMb = Math.max(...conns.map((c) => c.sent)) / MB;
  const statuses = conns.map((c) => parseResponse(c.received)?.status ?? 'closed');
  figures.header_bomb = {
    connections: BOMB_CONNECTIONS,
    rss_mb: { before, peak, after },
    growth_mb: Math.round((peak - before) * 10) / 10,
    max_head_mb_sent: Math.round(maxSentMb * 100) / 100,
    answers: [...new Set(statuses)].join(','),
  };
  check(
    `header bomb (${BOMB_CONNECTIONS} x 16 MB): RSS grows < ${RSS_GROWTH_LIMIT_MB} MB`,
    peak - before < RSS_GROWTH_LIMIT_MB,
    `RSS ${before} -> peak ${peak} -> ${after} MB`,
  );
  // What a client could write includes the kernel's socket buffers; the server itself
  // reads at most MAX_HEADER_BYTES plus one read of each.
  check('header bomb: every connection cut off before its 16 MB', maxSentMb < 16, `at most ${maxSentMb.toFixed(2)} MB written; answers ${statuses[0]}`);
}

async function bigHeadAndMalformed() {
  const big = await exchange(`GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Pad: ${'p'.repeat(17 * 1024)}\r\n\r\n`);
  check('17 KiB head: 431 request_header_too_large, JSON', big?.status === 431 && big.code === 'request_header_too_large', JSON.stringify(big));
  const cases: Record<string, string> = {
    'negative Content-Length': `POST /v1/chat HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n`,
    'Content-Length and Transfer-Encoding': `POST /v1/chat HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    'a space in a header name': `GET /health HTTP/1.1\r\nHost: ${host}\r\nBad Name: x\r\n\r\n`,
  };
  for (const [name, raw] of Object.entries(cases)) {
    const r = await exchange(raw);
    const ok = r?.status === 400 && r.code === 'bad_request' && r.headers['content-type']?.startsWith('application/json') && !!r.headers['x-request-id'];
    check(`malformed HTTP (${name}): JSON 400 with X-Request-ID`, !!ok, JSON.stringify(r));
  }
}

async function slowAndIdle() {
  const open = async (n: number) => {
    const out: Conn[] = [];
    for (let i = 0; i < n; i += 100) {
      out.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => connect().catch(() => undefined)))).filter((c): c is Conn => !!c));
    }
    return out;
  };
  const t0 = Date.now();
  const slow = await open(SLOW_CONNECTIONS);
  const idle = await open(IDLE_CONNECTIONS);
  const opened = Date.now();
  for (const c of slow) void write(c, `GET /health HTTP/1.1\r\nHost: ${host}\r\n`);
  let line = 0;
  const trickle = setInterval(() => {
    line += 1;
    for (const c of slow) void write(c, `X-Slow-${line}: 1\r\n`);
  }, 5000);
  await sleep(2000);
  const healthDuring = await health();
  const limitMs = (headerTimeoutS + 3) * 1000;
  await waitClosed([...slow, ...idle], opened + limitMs);
  clearInterval(trickle);
  const lastClosed = (cs: Conn[]) => (cs.every((c) => c.closedAt) ? Math.max(...cs.map((c) => c.closedAt! - t0)) / 1000 : undefined);
  const openSlow = slow.filter((c) => !c.closedAt).length;
  const openIdle = idle.filter((c) => !c.closedAt).length;
  const answered408 = slow.filter((c) => parseResponse(c.received)?.status === 408).length;
  figures.slowloris = { connections: slow.length, still_open: openSlow, answered_408: answered408, last_closed_s: lastClosed(slow) };
  figures.idle = { connections: idle.length, still_open: openIdle, last_closed_s: lastClosed(idle) };
  for (const c of [...slow, ...idle]) c.socket.destroy();
  check(
    `slowloris (${slow.length} connections, a header line per 5 s): all closed within ${headerTimeoutS + 3} s`,
    slow.length === SLOW_CONNECTIONS && openSlow === 0,
    `${slow.length - openSlow} closed (${answered408} with 408), last after ${lastClosed(slow) ?? '–'} s`,
  );
  check(
    `idle connections (${idle.length}): all closed within ${headerTimeoutS + 3} s`,
    idle.length === IDLE_CONNECTIONS && openIdle === 0,
    `${idle.length - openIdle} closed, last after ${lastClosed(idle) ?? '–'} s`,
  );
  check('/health answers during the slowloris', healthDuring === 200, `status ${healthDuring}`);
}

/** A chunked POST /v1/chat whose body never ends (a chunk every 500 ms). */
async function endlessBody() {
  const conn = await connect();
  const started = Date.now();
  await write(
    conn,
    `POST /v1/chat HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`,
  );
  const trickle = setInterval(() => void write(conn, '1\r\n \r\n'), 500);
  return { conn, started, stop: () => clearInterval(trickle) };
}

async function endlessBodyGets408() {
  const { conn, started, stop } = await endlessBody();
  const deadline = started + (bodyTimeoutS + 3) * 1000;
  while (Date.now() < deadline && !parseResponse(conn.received) && !conn.closedAt) await sleep(50);
  stop();
  const r = parseResponse(conn.received);
  const after = (Date.now() - started) / 1000;
  conn.socket.destroy();
  figures.endless_body = { status: r?.status ?? 'none', after_s: Math.round(after * 10) / 10 };
  check(
    `never-ending chunked body: 408 request_timeout within ${bodyTimeoutS + 3} s`,
    r?.status === 408 && r.code === 'request_timeout',
    `${r?.status ?? 'no answer'} after ${after.toFixed(1)} s`,
  );
}

async function sigtermWithEndlessBody() {
  const { conn, stop } = await endlessBody();
  await sleep(1000);
  const signalled = Date.now();
  await run(engine, ['kill', '--signal', 'TERM', container!]);
  const limitS = bodyTimeoutS + 5;
  let exitCode: string | undefined;
  while ((Date.now() - signalled) / 1000 < limitS + 5) {
    const { stdout } = await run(engine, ['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', container!]);
    const [running, code] = stdout.trim().split(' ');
    if (running === 'false') {
      exitCode = code;
      break;
    }
    await sleep(200);
  }
  const after = (Date.now() - signalled) / 1000;
  stop();
  conn.socket.destroy();
  figures.sigterm_with_endless_body = { exit_code: exitCode ?? 'still running', exit_after_s: Math.round(after * 10) / 10 };
  check(
    `SIGTERM with a never-ending body in flight: exit 0 within ${limitS} s`,
    exitCode === '0' && after <= limitS,
    `exit ${exitCode ?? 'still running'} after ${after.toFixed(1)} s`,
  );
}

const t0 = Date.now();
try {
  check('/health before the attacks', (await health()) === 200, 'status 200 expected');
  await headerBomb();
  await bigHeadAndMalformed();
  await slowAndIdle();
  await endlessBodyGets408();
  check('/health after the attacks', (await health()) === 200, 'the service still answers');
  await sigtermWithEndlessBody();
} catch (e) {
  check('fault run', false, `aborted: ${(e as Error).stack ?? e}`);
}
const failed = results.filter((r) => !r.ok);
const seconds = Math.round((Date.now() - t0) / 100) / 10;
console.log(`${results.length - failed.length} passed, ${failed.length} failed in ${seconds} s`);
if (reportFile) {
  writeFileSync(reportFile, `${JSON.stringify({ passed: failed.length === 0, seconds, figures, checks: results }, null, 2)}\n`);
}
process.exit(failed.length ? 1 : 0);
