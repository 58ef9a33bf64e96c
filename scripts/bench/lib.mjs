// Helpers shared by the benchmark groups (scripts/bench.mjs).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

// The bench's groups, in the order a full run measures them (`--only` takes these names).
export const GROUPS = ['generator', 'image', 'service', 'instruments', 'servers', 'budgets', 'cache', 'streaming', 'burst'];

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export function log(...args) {
  process.stderr.write(`[bench] ${args.join(' ')}\n`);
}

/** Run a command to completion (async, so in-process servers keep serving). */
export function run(cmd, args, opts = {}) {
  const { cwd, env, input, timeoutMs = 30 * 60_000, allowFail = false, logFile } = opts;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      cwd,
      env: env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const out = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
    child.stdout.on('data', (d) => {
      stdout += d;
      out?.write(d);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      out?.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      out?.end();
      if (allowFail) resolve({ code: 127, stdout, stderr: String(err), ms: performance.now() - t0 });
      else reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      out?.end();
      const res = { code: code ?? 128, signal, stdout, stderr, ms: performance.now() - t0 };
      if (code !== 0 && !allowFail) {
        const e = new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}\n${tail(stderr || stdout, 30)}`);
        e.result = res;
        reject(e);
      } else resolve(res);
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

export function tail(text, lines = 20) {
  return String(text).trimEnd().split('\n').slice(-lines).join('\n');
}

export function firstLine(text) {
  return String(text).trim().split('\n')[0] ?? '';
}

export function versionOf(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return firstLine(r.stdout || r.stderr);
}

/** uv by its real path: a pyenv shim would pick a project's .python-version interpreter. */
export function uvPath() {
  const r = spawnSync('bash', ['-c', 'command -v uv'], { encoding: 'utf8' });
  let p = r.stdout.trim();
  if (p.endsWith('/shims/uv')) {
    const w = spawnSync('pyenv', ['which', 'uv'], { encoding: 'utf8', cwd: '/' });
    if (w.status === 0 && w.stdout.trim()) p = w.stdout.trim();
  }
  return p || 'uv';
}

/** Real path of a python interpreter of the given minor version (pyenv aware). */
export function pythonPath(minor) {
  for (const cand of [`python${minor}`]) {
    const w = spawnSync('pyenv', ['which', cand], { encoding: 'utf8', cwd: '/' });
    if (w.status === 0 && w.stdout.trim()) return w.stdout.trim();
    const r = spawnSync('bash', ['-c', `command -v ${cand}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Apparent size in bytes of a directory tree (like `du -sb`), not following symlinks. */
export function dirBytes(dir) {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else {
        try {
          total += fs.lstatSync(p).size;
        } catch {
          /* vanished */
        }
      }
    }
  }
  return total;
}

export function countFiles(dir) {
  let n = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) stack.push(path.join(d, e.name));
      else n += 1;
    }
  }
  return n;
}

/** Installed npm packages under a node_modules tree (each package dir counted once, nested ones too). */
export function countNpmPackages(nodeModules) {
  let n = 0;
  const visit = (nm) => {
    let entries;
    try {
      entries = fs.readdirSync(nm, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const p = path.join(nm, e.name);
      if (e.name.startsWith('@')) {
        for (const s of fs.readdirSync(p, { withFileTypes: true })) {
          if (s.isDirectory() && fs.existsSync(path.join(p, s.name, 'package.json'))) {
            n += 1;
            visit(path.join(p, s.name, 'node_modules'));
          }
        }
      } else if (fs.existsSync(path.join(p, 'package.json'))) {
        n += 1;
        visit(path.join(p, 'node_modules'));
      }
    }
  };
  visit(nodeModules);
  return n;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export function httpPostJson(url, body, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      {
        method: 'POST',
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': data.length },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', (e) => resolve({ status: 0, text: String(e) }));
    req.end(data);
  });
}

export async function waitHttpOk(url, timeoutMs, isAlive = () => true) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (!isAlive()) return false;
    if ((await httpGet(url, 1000)) === 200) return true;
    await sleep(100);
  }
  return false;
}

/** Start a long-running process in its own process group, output to a log file. */
export function startProcess(cmd, args, { cwd, env, logFile }) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  let exited = false;
  let exitCode = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      exitCode = code ?? signal;
      resolve(exitCode);
    });
    child.on('error', () => {
      exited = true;
      resolve(127);
    });
  });
  return {
    pid: child.pid,
    isAlive: () => !exited,
    exitCode: () => exitCode,
    async stop(graceMs = 15_000) {
      if (exited) return exitCode;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      const code = await exitPromise;
      clearTimeout(timer);
      // Make sure nothing of the group is left (uv run's child, workers).
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      return code;
    },
  };
}

export function machineInfo() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? null;
  const uv = uvPath();
  const py = pythonPath('3.11');
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpuModel: model,
    memTotalGB: round(os.totalmem() / 1e9, 1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    python: py ? versionOf(py) : null,
    uv: versionOf(uv),
    podman: versionOf('podman'),
    wrk: firstLine(spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout || '') || null,
    hyperfine: versionOf('hyperfine'),
    npm: versionOf('npm'),
  };
}

export function loadAverage() {
  return os.loadavg().map((x) => round(x, 2));
}

/** utime + stime (clock ticks) of a process and all its descendants. */
export function treeCpuTicks(pid) {
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      // fields after "(comm)": state is field 3, utime 14, stime 15
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += Number(fields[11]) + Number(fields[12]);
      for (const task of fs.readdirSync(`/proc/${p}/task`)) {
        const children = fs.readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (children) stack.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

/**
 * Start scripts/bench/mock_upstream.mjs (its own process) and wait until it prints
 * "listening"; throws if it exits or does not listen within 10 s.
 */
export async function startMockUpstream({ port, tokens, intervalMs, logFile }) {
  const upstream = startProcess('node', [path.join(ROOT, 'scripts/bench/mock_upstream.mjs'), String(port), String(tokens), String(intervalMs)], {
    cwd: ROOT,
    env: process.env,
    logFile,
  });
  const deadline = Date.now() + 10_000;
  const listening = () => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('listening');
  while (!listening()) {
    if (Date.now() > deadline || !upstream.isAlive()) {
      await upstream.stop();
      throw new Error(`the mock upstream did not listen on :${port}: ${fs.existsSync(logFile) ? tail(fs.readFileSync(logFile, 'utf8'), 5) : ''}`);
    }
    await sleep(100);
  }
  return upstream;
}

let clockTicksPerSecond;
/** Starts measuring a process tree's CPU; the returned function gives µs of CPU per request since. */
export function cpuMeter(pid) {
  clockTicksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const start = treeCpuTicks(pid);
  return (requests) => (requests ? round(((treeCpuTicks(pid) - start) * 1e6) / clockTicksPerSecond / requests, 1) : null);
}
