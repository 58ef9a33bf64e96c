// Group "generator": time to first prompt, non-interactive generation, installed
// footprint; create-agent-service against create-vite, create-t3-app and
// s3rius's fastapi_template, each installed from its registry into a temp dir.
import fs from 'node:fs';
import path from 'node:path';
import { countFiles, countNpmPackages, dirBytes, log, median, pythonPath, ROOT, round, run, tail, uvPath } from './lib.mjs';

const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error', '--no-update-notifier'];

function binOf(prefix, pkg) {
  const dir = path.join(prefix, 'node_modules', pkg);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const bin = typeof meta.bin === 'string' ? meta.bin : Object.values(meta.bin)[0];
  return { bin: path.join(dir, bin), version: meta.version };
}

async function installNpm(work, spec, name) {
  const prefix = path.join(work, 'install', name);
  fs.mkdirSync(prefix, { recursive: true });
  fs.writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
  const r = await run('npm', ['install', '--prefix', prefix, '--omit=dev', ...NPM_FLAGS, spec], {
    cwd: prefix,
    allowFail: true,
    timeoutMs: 5 * 60_000,
  });
  if (r.code !== 0) return { error: `npm install ${spec} failed: ${tail(r.stderr, 5)}` };
  const nm = path.join(prefix, 'node_modules');
  return {
    prefix,
    installMs: round(r.ms, 0),
    install: {
      bytes: dirBytes(nm),
      packages: countNpmPackages(nm),
      command: `npm install --prefix TMP --omit=dev ${spec} && du -sb TMP/node_modules`,
    },
  };
}

async function installPy(work, spec, name) {
  const uv = uvPath();
  const venv = path.join(work, 'install', name);
  const py = pythonPath('3.11') ?? 'python3.11';
  let r = await run(uv, ['venv', '-q', '--python', py, venv], { allowFail: true });
  if (r.code !== 0) return { error: `uv venv failed: ${tail(r.stderr, 5)}` };
  const sp = fs.readdirSync(path.join(venv, 'lib'))[0];
  const site = path.join(venv, 'lib', sp, 'site-packages');
  const empty = dirBytes(site);
  r = await run(uv, ['pip', 'install', '-q', '--python', path.join(venv, 'bin', 'python'), spec], {
    allowFail: true,
    timeoutMs: 5 * 60_000,
  });
  if (r.code !== 0) return { error: `uv pip install ${spec} failed: ${tail(r.stderr, 5)}` };
  const list = await run(uv, ['pip', 'list', '--format', 'json', '--python', path.join(venv, 'bin', 'python')], {
    allowFail: true,
  });
  let packages = null;
  let version = null;
  try {
    const pkgs = JSON.parse(list.stdout);
    packages = pkgs.length;
    version = pkgs.find((p) => p.name.toLowerCase().replace(/_/g, '-') === spec.replace(/_/g, '-'))?.version ?? null;
  } catch {
    /* leave null */
  }
  return {
    prefix: venv,
    version,
    installMs: round(r.ms, 0),
    install: {
      bytes: dirBytes(site) - empty,
      packages,
      command: `uv venv -p 3.11 TMP && uv pip install --python TMP/bin/python ${spec} && du -sb TMP/lib/python3.11/site-packages`,
    },
  };
}

async function firstPrompt(tool, { runs, cwd, warmup }) {
  const args = [
    path.join(ROOT, 'scripts/bench/first_prompt.py'),
    '--runs',
    String(runs),
    '--warmup',
    String(warmup),
    '--marker',
    tool.marker,
    '--cwd',
    cwd,
    '--',
    ...tool.promptCmd,
  ];
  const r = await run('python3', args, { allowFail: true, env: tool.env ?? process.env, timeoutMs: 10 * 60_000 });
  let parsed;
  try {
    parsed = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: `first_prompt.py failed: ${tail(r.stderr || r.stdout, 5)}` };
  }
  if (parsed.error) return { error: `${parsed.error}; output: ${parsed.output}` };
  return {
    medianMs: parsed.median_ms,
    minMs: parsed.min_ms,
    samplesMs: parsed.samples_ms,
    marker: tool.marker,
    command: `python3 scripts/bench/first_prompt.py --runs ${runs} --marker '${tool.marker}' -- ${tool.promptDisplay}`,
  };
}

async function generate(tool, { runs, cwd, work, warmup }) {
  const json = path.join(work, `hyperfine-${tool.id}.json`);
  const outDir = path.join(cwd, tool.outName);
  const args = [
    '-N',
    '--style',
    'basic',
    '--runs',
    String(runs),
    '--warmup',
    String(warmup),
    '--prepare',
    `rm -rf ${outDir}`,
    '--export-json',
    json,
    tool.genCmd.map(shq).join(' '),
  ];
  const r = await run('hyperfine', args, { cwd, env: tool.env ?? process.env, allowFail: true, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) return { error: `hyperfine failed: ${tail(r.stderr || r.stdout, 8)}` };
  const res = JSON.parse(fs.readFileSync(json, 'utf8')).results[0];
  const samples = res.times.map((t) => round(t * 1000, 1));
  let files = null;
  try {
    files = countFiles(outDir);
  } catch {
    /* none */
  }
  if (!files) return { error: `no files generated in ${tool.outName} by: ${tool.genDisplay}` };
  return {
    medianMs: round(median(samples), 1),
    meanMs: round(res.mean * 1000, 1),
    stddevMs: round(res.stddev * 1000, 1),
    minMs: round(res.min * 1000, 1),
    samplesMs: samples,
    files,
    command: `hyperfine -N --runs ${runs} --warmup 1 --prepare 'rm -rf ${tool.outName}' '${tool.genDisplay}'`,
  };
}

/** One figure from the rounds' results: the median of every sample; the first error if any round failed. */
function pooled(parts, { runs, rounds }) {
  const failed = parts.find((p) => p.error);
  if (failed) return failed;
  const samples = parts.flatMap((p) => p.samplesMs);
  const first = parts[0];
  return {
    ...first,
    medianMs: round(median(samples), 1),
    minMs: Math.min(...samples),
    meanMs: undefined,
    stddevMs: undefined,
    samplesMs: samples,
    command: first.command.replace(/--runs \d+/, `--runs ${runs / rounds}`).concat(rounds > 1 ? ` (x${rounds} rounds, the tools taking turns)` : ''),
  };
}

function shq(s) {
  return /^[A-Za-z0-9_\-./=:,@]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function generatorGroup({ work, quick }) {
  const runs = quick ? 3 : 10;
  const promptRuns = quick ? 3 : 10;
  // the tools take turns: each round runs every tool (runs / rounds times each), so load
  // that comes and goes on a shared machine falls on all of them alike
  const rounds = quick ? 1 : 5;
  const w = path.join(work, 'generator');
  fs.mkdirSync(w, { recursive: true });
  const result = { runs, promptRuns, rounds, tools: {}, notes: [] };

  // --- create-agent-service: the published tarball, installed like a user gets it.
  log('generator: npm run build, npm pack, install the tarball');
  await run('node', ['scripts/build.mjs'], { cwd: ROOT });
  const packDir = path.join(w, 'pack');
  fs.mkdirSync(packDir, { recursive: true });
  const pack = await run('npm', ['pack', '--json', '--pack-destination', packDir, ...NPM_FLAGS], { cwd: ROOT });
  const packInfo = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0];
  const tarball = path.join(packDir, packInfo.filename);
  const ours = await installNpm(w, tarball, 'create-agent-service');
  const tools = [];
  if (ours.error) {
    result.tools['create-agent-service'] = { error: ours.error };
  } else {
    const { bin, version } = binOf(ours.prefix, 'create-agent-service');
    ours.install.command = 'npm pack && npm install --prefix TMP --omit=dev ./create-agent-service-*.tgz && du -sb TMP/node_modules';
    ours.install.tarballBytes = packInfo.size;
    ours.install.unpackedBytes = packInfo.unpackedSize;
    tools.push({
      id: 'create-agent-service',
      version,
      info: ours,
      marker: '◆',
      promptCmd: ['node', bin],
      promptDisplay: 'node bin/create-agent-service.js',
      outName: 'agent-bench',
      genCmd: ['node', bin, 'agent-bench', '--yes', '--no-git', '--no-install'],
      genDisplay: 'node bin/create-agent-service.js agent-bench --yes --no-git --no-install',
      preset: 'default preset: fastapi, prometheus, memory store, GitHub CI, kustomize; no git, no uv sync',
    });
  }

  // --- anchors, from the registries.
  log('generator: installing create-vite, create-t3-app (npm) and fastapi_template (PyPI)');
  const vite = await installNpm(w, 'create-vite@latest', 'create-vite');
  if (vite.error) result.tools['create-vite'] = { error: vite.error };
  else {
    const { bin, version } = binOf(vite.prefix, 'create-vite');
    tools.push({
      id: 'create-vite',
      version,
      info: vite,
      marker: '◆',
      promptCmd: ['node', bin],
      promptDisplay: 'node node_modules/create-vite/index.js',
      outName: 'vite-app',
      genCmd: ['node', bin, 'vite-app', '--template', 'react-ts', '--no-interactive', '--no-immediate'],
      genDisplay: 'create-vite vite-app --template react-ts --no-interactive --no-immediate',
      preset: 'react-ts template; --no-immediate: no install, no dev server',
    });
  }
  const t3 = await installNpm(w, 'create-t3-app@latest', 'create-t3-app');
  if (t3.error) result.tools['create-t3-app'] = { error: t3.error };
  else {
    const { bin, version } = binOf(t3.prefix, 'create-t3-app');
    tools.push({
      id: 'create-t3-app',
      version,
      info: t3,
      marker: '◆',
      promptCmd: ['node', bin],
      promptDisplay: 'node node_modules/create-t3-app/dist/index.js',
      outName: 't3-app',
      genCmd: ['node', bin, 't3-app', '--CI', '--trpc', '--tailwind', '--appRouter', '--noGit', '--noInstall'],
      genDisplay: 'create-t3-app t3-app --CI --trpc --tailwind --appRouter --noGit --noInstall',
      preset: 'CI mode with tRPC, Tailwind, App Router; no git, no install',
    });
  }
  const fat = await installPy(w, 'fastapi_template', 'fastapi_template');
  if (fat.error) result.tools.fastapi_template = { error: fat.error };
  else {
    // Its cookiecutter post-generation hook always runs `git init`, `uv sync`,
    // pre-commit and a commit; there is no flag to skip them. For a comparison
    // with --no-git --no-install, `git` on PATH is a stub that fails at once:
    // the hook stops at its first command (one extra tiny process).
    const stubDir = path.join(w, 'git-stub');
    fs.mkdirSync(stubDir, { recursive: true });
    fs.writeFileSync(path.join(stubDir, 'git'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${stubDir}:${process.env.PATH}` };
    const bin = path.join(fat.prefix, 'bin', 'fastapi_template');
    tools.push({
      id: 'fastapi_template',
      version: fat.version,
      info: fat,
      env,
      marker: 'Project name',
      promptCmd: [bin],
      promptDisplay: 'fastapi_template',
      outName: 'fat_app',
      genCmd: [bin, '--name', 'fat_app', '--quiet', '--api-type', 'rest', '--db', 'none', '--ci', 'github', '--prometheus', '--routers'],
      genDisplay: 'fastapi_template --name fat_app --quiet --api-type rest --db none --ci github --prometheus --routers',
      preset:
        'REST, no database, GitHub CI, Prometheus, example routers; its post-generation hook (git init, uv sync, pre-commit, commit) cut short by a failing `git` stub on PATH',
    });
  }

  const samples = Object.fromEntries(tools.map((t) => [t.id, { firstPrompt: [], generate: [] }]));
  for (let turn = 0; turn < rounds; turn++) {
    for (const tool of tools) {
      const cwd = path.join(w, 'run', tool.id);
      fs.mkdirSync(cwd, { recursive: true });
      log(`generator: round ${turn + 1}/${rounds}: ${tool.id} ${tool.version}: first prompt x${promptRuns / rounds}, generation x${runs / rounds}`);
      const warmup = turn === 0 ? 1 : 0;
      const s = samples[tool.id];
      s.firstPrompt.push(await firstPrompt(tool, { runs: promptRuns / rounds, cwd, warmup }));
      s.generate.push(await generate(tool, { runs: runs / rounds, cwd, work: w, warmup }));
    }
  }
  for (const tool of tools) {
    const s = samples[tool.id];
    result.tools[tool.id] = {
      version: tool.version,
      preset: tool.preset,
      install: tool.info.install,
      firstPrompt: pooled(s.firstPrompt, { runs: promptRuns, rounds }),
      generate: pooled(s.generate, { runs, rounds }),
    };
  }

  // Ratios: anchor / ours (> 1 means create-agent-service is faster or smaller).
  const o = result.tools['create-agent-service'];
  result.ratios = {};
  for (const [id, t] of Object.entries(result.tools)) {
    if (id === 'create-agent-service' || !o || o.error || t.error) continue;
    result.ratios[id] = {
      firstPrompt: ratio(t.firstPrompt?.medianMs, o.firstPrompt?.medianMs),
      generate: ratio(t.generate?.medianMs, o.generate?.medianMs),
      installBytes: ratio(t.install?.bytes, o.install?.bytes),
    };
  }
  result.notes.push(
    'Every timing is a fresh process; one discarded warm-up run first so every tool starts with the same warm OS file cache.',
    `The tools take turns: ${rounds} round(s), each running every tool's first prompt and generation ${runs / rounds} times, so load from other work on the machine falls on all of them alike; the figures are medians of all samples.`,
    'Time to first prompt: the command on a real pseudo-terminal (python3 pty, 80x24, CI unset) until the marker text appears; the process is then killed.',
    'Anchors are installed into temp dirs from the npm registry and PyPI at bench time; the figures use those installed copies (no npx/npm exec overhead), and create-agent-service is measured from its own packed tarball installed the same way.',
  );
  return result;
}

function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !b) return null;
  return round(a / b, 2);
}
