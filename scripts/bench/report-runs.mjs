// BENCHMARKS.md's "Background runs" section, from bench/runs-pipeline.json: the
// figures of the pipeline's runs stage (scripts/pipeline.sh, test/runs/runs.ts),
// imported from a pipeline run's out/report by scripts/bench/import-runs.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

export const RUNS_PIPELINE_FILE = path.join(ROOT, 'bench', 'runs-pipeline.json');

export function readRunsPipeline(file = RUNS_PIPELINE_FILE) {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

const num = (x, unit = '') => (typeof x === 'number' ? `${x}${unit}` : 'n/a');

export function runsPipelineSection(data) {
  const out = ['', '## Background runs (pipeline `runs` stage)', ''];
  const presets = Object.entries(data?.presets ?? {});
  if (!presets.length) {
    out.push('Not imported yet: run the `runs` stage, then `node scripts/bench/import-runs.mjs` (see below).', '');
  }
  out.push(
    'Measured by the verification pipeline, not by `npm run bench`: `scripts/pipeline.sh --stage runs <preset>` runs the hardened image as an api and two workers on the shared Redis or Postgres and drives it with `test/runs/runs.ts`: 500 runs queued through the api (32 at a time, fake model with `FAKE_LLM_LATENCY_MS=500`, `RUN_CONCURRENCY=16` per worker, `RUN_VISIBILITY_TIMEOUT=8`); mid-load one worker gets SIGTERM and the other SIGKILL, and each is replaced. Queue wait is `started_at - created_at` of the run objects; runs/s counts from the first run queued to the last finished; after the SIGKILL, "taken over" is when the killed worker\'s runs started again on another worker (behind the rest of the queue), "finished" when the last of them succeeded.',
    '',
    `The figures below are imported from a pipeline run's \`out/report/<preset>/runs.json\` into \`bench/runs-pipeline.json\` by \`node scripts/bench/import-runs.mjs [OUT]\`, which regenerates this file.${data?.imported_from ? ` Imported from: ${data.imported_from}.` : ''}`,
    '',
  );
  if (!presets.length) return out;
  out.push(
    '| preset | store | checks | runs succeeded | runs/s | queue wait p50 / p99 | SIGTERM: in flight, finished in grace, exit | SIGKILL: runs lost | taken over after | all finished after |',
    '| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  );
  for (const [name, r] of presets) {
    const t = r.sigkill?.taken_over_after_s;
    out.push(
      `| ${name} | ${r.store ?? 'n/a'} | ${r.checks_passed}/${r.checks_total} passed | ${r.succeeded}/${r.runs} | ${num(r.runs_per_s)} | ${num(r.queue_wait_s?.p50, ' s')} / ${num(r.queue_wait_s?.p99, ' s')} | ${r.sigterm ? `${r.sigterm.in_flight}, ${r.sigterm.finished_in_grace}, exit ${r.sigterm.exit}` : 'n/a'} | ${num(r.sigkill?.runs_lost)} | ${t ? `${t.first}–${t.last} s` : 'n/a'} | ${num(r.sigkill?.recovered_after_s, ' s')} |`,
    );
  }
  out.push('');
  return out;
}
