#!/usr/bin/env node
// Import the pipeline's runs stage figures into bench/runs-pipeline.json and
// regenerate BENCHMARKS.md (and the README's Benchmarks table) from it:
//   node scripts/bench/import-runs.mjs [OUT]     # OUT: the pipeline's output directory (out)
// Reads OUT/report/<preset>/runs.json of every preset whose runs stage wrote one
// and passed; presets already in bench/runs-pipeline.json and not in OUT stay.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib.mjs';
import { writeReports } from './report.mjs';
import { RUNS_PIPELINE_FILE, readRunsPipeline } from './report-runs.mjs';

const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'out'));
const reportDir = path.join(out, 'report');
const data = readRunsPipeline() ?? { presets: {} };
const imported = [];
for (const preset of fs.existsSync(reportDir) ? fs.readdirSync(reportDir).sort() : []) {
  const file = path.join(reportDir, preset, 'runs.json');
  if (!fs.existsSync(file)) continue;
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!r.passed) {
    console.error(`import-runs: ${preset}: its runs stage failed (${file}), not imported`);
    continue;
  }
  const answers = JSON.parse(fs.readFileSync(path.join(out, preset, '.agent-service.json'), 'utf8')).answers ?? {};
  data.presets[preset] = {
    store: answers.store,
    framework: answers.framework,
    measured_at: `${new Date(r.load_started_at * 1000).toISOString().slice(0, 19)}Z`,
    checks_passed: r.checks.filter((c) => c.ok).length,
    checks_total: r.checks.length,
    runs: r.runs,
    succeeded: r.succeeded,
    workers: r.workers,
    runs_per_s: r.runs_per_s,
    load_s: r.load_s,
    queue_wait_s: r.queue_wait_s,
    sigterm: r.sigterm,
    sigkill: r.sigkill,
    retried_runs: r.retried_runs,
    outcomes_kept_on_takeover: r.outcomes_kept_on_takeover,
    stage_driver_s: r.seconds,
  };
  imported.push(preset);
}
if (!imported.length) {
  console.error(`import-runs: no passed runs stage under ${reportDir} (scripts/pipeline.sh --stage runs <preset>)`);
  process.exit(1);
}
data.imported_from = `\`scripts/pipeline.sh --stage runs\` on a ${os.cpus().length}-core machine`;
data.presets = Object.fromEntries(Object.entries(data.presets).sort(([a], [b]) => a.localeCompare(b)));
fs.writeFileSync(RUNS_PIPELINE_FILE, `${JSON.stringify(data, null, 2)}\n`);
const results = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench', 'results.json'), 'utf8'));
writeReports(results);
console.log(`import-runs: ${imported.join(', ')} -> ${path.relative(ROOT, RUNS_PIPELINE_FILE)}, BENCHMARKS.md`);
