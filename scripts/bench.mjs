#!/usr/bin/env node
// `npm run bench`: measure create-agent-service on this machine, side by side
// with its anchors, in one run; write bench/results.json and regenerate
// BENCHMARKS.md (and the README's Benchmarks table) from it.
//
//   npm run bench                              # every group (~15 min on 2 cores)
//   npm run bench -- --only generator          # one group (repeatable, or a,b; the groups are listed below)
//   npm run bench -- --quick                   # short smoke run (fewer runs, 2 s loads)
//   npm run bench -- --report                  # only regenerate BENCHMARKS.md + README from the JSON
//   options: --date YYYY-MM-DD (recorded as the run date; default: today, UTC)
//            --out FILE (default bench/results.json), --keep (leave the temp work dir)
//
// Groups measured with --only are merged into the existing results file; the
// others keep their previous figures (each group records when it was measured).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GROUPS, loadAverage, log, machineInfo, ROOT } from './bench/lib.mjs';
import { writeReports } from './bench/report.mjs';

function parseArgs(argv) {
  const opts = { only: [], quick: false, reportOnly: false, date: null, out: 'bench/results.json', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--report' || a === '--report-only') opts.reportOnly = true;
    else if (a === '--keep') opts.keep = true;
    else if (a.startsWith('--only')) opts.only.push(...val().split(','));
    else if (a.startsWith('--date')) opts.date = val();
    else if (a.startsWith('--out')) opts.out = val();
    else if (a === '-h' || a === '--help') {
      const src = fs
        .readFileSync(new URL(import.meta.url), 'utf8')
        .split('\n')
        .slice(1);
      const usage = src.slice(
        0,
        src.findIndex((l) => !l.startsWith('//')),
      );
      process.stdout.write(`${usage.map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\ngroups: ${GROUPS.join(', ')}\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  for (const g of opts.only) if (!GROUPS.includes(g)) throw new Error(`--only ${g}: one of ${GROUPS.join(', ')}`);
  if (opts.date && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) throw new Error('--date YYYY-MM-DD');
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exit(2);
  }
  const outFile = path.resolve(ROOT, opts.out);
  let results = {};
  if (fs.existsSync(outFile)) {
    try {
      results = JSON.parse(fs.readFileSync(outFile, 'utf8'));
    } catch {
      results = {};
    }
  }
  if (opts.reportOnly) {
    writeReports(results, { outFile });
    log(`regenerated BENCHMARKS.md and the README table from ${path.relative(ROOT, outFile)}`);
    return;
  }
  const groups = opts.only.length ? GROUPS.filter((g) => opts.only.includes(g)) : GROUPS;
  const date = opts.date ?? new Date().toISOString().slice(0, 10);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cas-bench-'));
  log(`work dir ${work}; groups: ${groups.join(', ')}${opts.quick ? ' (quick)' : ''}`);
  const started = Date.now();
  results.schema = 1;
  results.machine = machineInfo();
  results.groups ??= {};
  let failed = false;
  for (const g of groups) {
    const t0 = Date.now();
    const meta = {
      date,
      quick: opts.quick,
      command: `npm run bench -- --only ${g}${opts.quick ? ' --quick' : ''}`,
      loadAverageAtStart: loadAverage(),
    };
    try {
      const mod = await import(`./bench/${g}.mjs`);
      const data = await mod[`${g}Group`]({ work, quick: opts.quick });
      results.groups[g] = { ...meta, seconds: Math.round((Date.now() - t0) / 1000), ...data };
    } catch (e) {
      failed = true;
      log(`group ${g} failed: ${e.stack || e}`);
      results.groups[g] = { ...meta, seconds: Math.round((Date.now() - t0) / 1000), error: String(e.message || e) };
    }
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  }
  results.lastRun = {
    date,
    groups,
    quick: opts.quick,
    seconds: Math.round((Date.now() - started) / 1000),
    command: `npm run bench${opts.only.length ? ` -- --only ${groups.join(',')}` : ''}${opts.quick ? (opts.only.length ? ' --quick' : ' -- --quick') : ''}`,
  };
  fs.writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  writeReports(results, { outFile });
  if (!opts.keep) fs.rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
  log(`done in ${results.lastRun.seconds} s: ${path.relative(ROOT, outFile)}, BENCHMARKS.md, README.md (Benchmarks)`);
  if (failed) process.exit(1);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack || e}\n`);
  process.exit(1);
});
