#!/usr/bin/env node
// The pipeline's report writer.
//   node scripts/pipeline/report.mjs OUT PRESET             -> OUT/report/PRESET.json
//   node scripts/pipeline/report.mjs OUT --summary P1 P2... -> OUT/report.md + a table on stdout
// Reads the fragments scripts/pipeline.sh leaves in OUT/report/<preset>/:
// stages.tsv, build.json, history.json, run.json, observability.json and
// conformance*.json (vitest's JSON reporter), drain.json. Missing fragments are reported as "not run".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, ...rest] = process.argv.slice(2);
if (!out || rest.length === 0) {
  console.error('usage: report.mjs OUT PRESET | report.mjs OUT --summary PRESET...');
  process.exit(2);
}

const readJson = (f) => {
  try {
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
};

function vitestCounts(f) {
  const j = readJson(f);
  if (!j) return undefined;
  const failed = [];
  for (const file of j.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'failed') failed.push(`${file.name.replace(/^.*test\/(conformance|observability)\//, '')} > ${t.fullName}`);
    }
  }
  return {
    passed: j.numPassedTests,
    failed: j.numFailedTests,
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
    total: j.numTotalTests,
    failed_tests: failed,
  };
}

function presetReport(p) {
  const dir = join(out, 'report', p);
  const presetFile = join(process.env.PIPELINE_PRESETS ?? join('test', 'presets'), `${p}.json`);
  const presetJson = readJson(presetFile);
  const generated = readJson(join(out, p, '.agent-service.json'));
  const stages = existsSync(join(dir, 'stages.tsv'))
    ? readFileSync(join(dir, 'stages.tsv'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [stage, status, seconds] = l.split('\t');
          return { stage, status, seconds: Number(seconds) };
        })
    : [];
  const build = readJson(join(dir, 'build.json'));
  // podman: one JSON array (size in bytes); docker: JSON lines (Size in bytes with --human=false).
  let history = readJson(join(dir, 'history.json'));
  if (!history && existsSync(join(dir, 'history.jsonl'))) {
    history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .map((h) => ({ size: Number(h.Size) || 0, CreatedBy: h.CreatedBy }));
  }
  history ??= [];
  const run = readJson(join(dir, 'run.json'));
  const drain = readJson(join(dir, 'drain.json'));
  return {
    preset: p,
    answers: generated?.answers ?? presetJson?.answers ?? presetJson,
    passed: stages.length > 0 && stages.every((s) => s.status === 'ok'),
    stages,
    image: build
      ? {
          ref: build.image,
          size_bytes: build.size_bytes,
          size_mb: Number((build.size_bytes / 1e6).toFixed(1)),
          base_images: { python: build.python_image, uv: build.uv_image },
          layers: history.map((h) => ({
            size_bytes: h.size ?? h.Size ?? 0,
            created_by: String(h.CreatedBy ?? h.created_by ?? '').replace(/^\/bin\/sh -c (#\(nop\) )?/, '').slice(0, 160),
          })),
        }
      : undefined,
    build: build ? { cold_s: build.cold_s, warm_s: build.warm_s, warm_change: 'one comment line appended to src/<pkg>/__init__.py' } : undefined,
    time_to_healthy_s: run?.healthy_s,
    conformance: {
      auth_on: vitestCounts(join(dir, 'conformance.json')),
      auth_off_docs_off_rate_limited: vitestCounts(join(dir, 'conformance-variant.json')),
      token_budget: vitestCounts(join(dir, 'conformance-budget.json')),
      observability_against_container: vitestCounts(join(dir, 'observability-container.json')),
      mcp: vitestCounts(join(dir, 'conformance-mcp.json')),
    },
    observability: vitestCounts(join(dir, 'observability.json')),
    drain,
  };
}

const mb = (b) => (b === undefined ? '–' : `${(b / 1e6).toFixed(1)} MB`);
const s = (x) => (x === undefined || Number.isNaN(x) ? '–' : `${x} s`);

if (rest[0] !== '--summary') {
  const p = rest[0];
  const r = presetReport(p);
  writeFileSync(join(out, 'report', `${p}.json`), `${JSON.stringify(r, null, 2)}\n`);
  process.exit(0);
}

const presets = rest.slice(1);
const reports = presets.map((p) => {
  const r = presetReport(p);
  writeFileSync(join(out, 'report', `${p}.json`), `${JSON.stringify(r, null, 2)}\n`);
  return r;
});
const stageNames = ['generate', 'lint', 'python', 'observability', 'build', 'run', 'conformance', 'mcp', 'drain', 'report'];
const lines = [];
lines.push('# Verification pipeline report', '');
lines.push('Stage durations in seconds (`–` not run for this preset, `FAIL` failed).', '');
lines.push(`| preset | framework | observability | store | ${stageNames.join(' | ')} |`);
lines.push(`| --- | --- | --- | --- | ${stageNames.map(() => '---:').join(' | ')} |`);
for (const r of reports) {
  const a = r.answers ?? {};
  const cells = stageNames.map((n) => {
    const st = r.stages.find((x) => x.stage === n);
    if (!st) return '–';
    return st.status === 'ok' ? String(st.seconds) : st.status === 'skipped' ? 'skipped' : `FAIL ${st.seconds}`;
  });
  lines.push(`| ${r.preset} | ${a.framework ?? ''} | ${a.observability ?? ''} | ${a.store ?? ''} | ${cells.join(' | ')} |`);
}
lines.push('', '## Images', '');
lines.push('| preset | image size | cold build | rebuild after a code change | time to healthy | conformance (auth on) | conformance (auth off, docs off, rate limit) | token budget | MCP | drain |');
lines.push('| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |');
for (const r of reports) {
  if (!r.image && !r.conformance?.auth_on && !r.drain) continue;
  const c = (x) => (x ? `${x.passed} passed, ${x.failed} failed, ${x.skipped} skipped` : '–');
  const d = r.drain ? `${r.drain.passed ? 'ok' : 'FAIL'}: ${r.drain.in_flight_at_signal ?? '?'} in flight, exit ${r.drain.exit_code} after ${r.drain.exit_after_s} s` : '–';
  lines.push(`| ${r.preset} | ${mb(r.image?.size_bytes)} | ${s(r.build?.cold_s)} | ${s(r.build?.warm_s)} | ${s(r.time_to_healthy_s)} | ${c(r.conformance?.auth_on)} | ${c(r.conformance?.auth_off_docs_off_rate_limited)} | ${c(r.conformance?.token_budget)} | ${c(r.conformance?.mcp)} | ${d} |`);
}
for (const r of reports) {
  if (!r.image?.layers?.length) continue;
  lines.push('', `### Layers of ${r.image.ref}`, '', '| size | created by |', '| ---: | --- |');
  for (const l of r.image.layers) {
    if (!l.size_bytes) continue;
    lines.push(`| ${mb(l.size_bytes)} | \`${l.created_by.replace(/\|/g, '\\|').replace(/`/g, "'")}\` |`);
  }
}
const failedTests = reports.flatMap((r) =>
  [...Object.values(r.conformance ?? {}), r.observability].flatMap((c) => (c?.failed_tests ?? []).map((t) => `${r.preset}: ${t}`)),
);
if (failedTests.length) {
  lines.push('', '## Failed conformance and observability tests', '', ...failedTests.map((t) => `- ${t}`));
}
lines.push('');
writeFileSync(join(out, 'report.md'), lines.join('\n'));

// stdout: the two tables only.
const cut = lines.findIndex((l) => l.startsWith('### Layers'));
const table = cut === -1 ? lines : lines.slice(0, cut);
console.log(table.join('\n'));
console.log(`(written to ${join(out, 'report.md')} and ${join(out, 'report')}/<preset>.json)`);
