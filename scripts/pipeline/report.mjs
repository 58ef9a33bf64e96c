#!/usr/bin/env node
// The pipeline's report writer.
//   node scripts/pipeline/report.mjs OUT PRESET             -> OUT/report/PRESET.json
//   node scripts/pipeline/report.mjs OUT --summary P1 P2... -> OUT/report.md + a table on stdout
//   node scripts/pipeline/report.mjs OUT --faults PRESET     -> the faults stage's table on stdout
// Reads the fragments scripts/pipeline.sh leaves in OUT/report/<preset>/:
// stages.tsv, build.json, history.json, run.json, observability.json and
// conformance*.json (vitest's JSON reporter), drain.json, runs.json (test/runs), browser.json (+ the playground
// screenshots next to it), eval.json, faults.json and faults-<concern>.json (test/faults).
// Missing fragments are reported as "not run".
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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
      if (t.status === 'failed') failed.push(`${file.name.replace(/^.*test\/(conformance|observability|faults)\//, '')} > ${t.fullName}`);
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

// The faults stage's figures: one fragment per concern (test/faults/<concern>.test.ts).
function faultsReport(dir) {
  const concerns = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^faults-.+\.json$/.test(f))
        .sort()
        .map((f) => readJson(join(dir, f)))
        .filter(Boolean)
    : [];
  const tests = vitestCounts(join(dir, 'faults.json'));
  if (!concerns.length && !tests) return undefined;
  return { tests, concerns: Object.fromEntries(concerns.map((c) => [c.concern, c])) };
}

const statusCell = (byStatus) =>
  byStatus
    ? Object.entries(byStatus)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')
        .replace(/\|/g, '\\|')
    : '–';
const rssCell = (r) => (r && r.before_mb !== undefined ? `${r.before_mb} / ${r.peak_mb} / ${r.after_mb} MB` : '–');

function faultsLines(reports) {
  const lines = [];
  for (const r of reports) {
    if (!r.faults) continue;
    const t = r.faults.tests;
    lines.push('', `### Faults: ${r.preset}${t ? ` (${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped)` : ''}`, '');
    lines.push('| concern | requests by status | RSS before / peak / after | recovery after the store returns | sessions verified intact |');
    lines.push('| --- | --- | --- | ---: | --- |');
    for (const c of Object.values(r.faults.concerns)) {
      const rss = c.rss ?? c.rss_5mb_answers;
      const recovery =
        c.recovery_s === undefined ? '–' : `${c.recovery_s} s (down ${c.store_down_s} s; slowest answer while down ${c.slowest_outage_answer_ms} ms)`;
      lines.push(
        `| ${c.concern}${c.store ? ` (${c.store})` : ''} | ${statusCell(c.requests_by_status)} | ${rssCell(rss)} | ${recovery} | ${c.sessions_intact ?? '–'} |`,
      );
    }
  }
  return lines;
}

if (rest[0] === '--faults') {
  const faults = faultsReport(join(out, 'report', rest[1]));
  console.log(faultsLines([{ preset: rest[1], faults }]).join('\n'));
  process.exit(0);
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
  const runs = readJson(join(dir, 'runs.json'));
  const browserRun = readJson(join(dir, 'browser.json'));
  const browser = browserRun
    ? {
        passed: browserRun.passed,
        checks_passed: browserRun.checks.filter((c) => c.ok).length,
        checks_failed: browserRun.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`),
        // relative to OUT, as report.md links them
        screenshots: browserRun.screenshots.filter((f) => existsSync(f)).map((f) => relative(out, f)),
      }
    : undefined;
  const evals = readJson(join(dir, 'eval.json'));
  const faultsConnection = readJson(join(dir, 'connection-faults.json'));
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
            created_by: String(h.CreatedBy ?? h.created_by ?? '')
              .replace(/^\/bin\/sh -c (#\(nop\) )?/, '')
              .slice(0, 160),
          })),
        }
      : undefined,
    build: build ? { cold_s: build.cold_s, warm_s: build.warm_s, warm_change: 'one comment line appended to src/<pkg>/__init__.py' } : undefined,
    time_to_healthy_s: run?.healthy_s,
    conformance: {
      auth_on: vitestCounts(join(dir, 'conformance.json')),
      auth_off_docs_off_rate_limited: vitestCounts(join(dir, 'conformance-variant.json')),
      token_budget: vitestCounts(join(dir, 'conformance-budget.json')),
      fallback_models_response_cache: vitestCounts(join(dir, 'conformance-fallback.json')),
      observability_against_container: vitestCounts(join(dir, 'observability-container.json')),
      mcp: vitestCounts(join(dir, 'conformance-mcp.json')),
    },
    observability: vitestCounts(join(dir, 'observability.json')),
    drain,
    runs,
    browser,
    evals,
    faults: faultsReport(dir),
    faults_connection: faultsConnection,
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
const stageNames = [
  'generate',
  'lint',
  'python',
  'observability',
  'build',
  'run',
  'conformance',
  'mcp',
  'browser',
  'drain',
  'runs',
  'eval',
  'faults',
  'report',
];
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
lines.push(
  '| preset | image size | cold build | rebuild after a code change | time to healthy | conformance (auth on) | conformance (auth off, docs off, rate limit) | token budget | fallback models, response cache | MCP | drain |',
);
lines.push('| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |');
for (const r of reports) {
  if (!r.image && !r.conformance?.auth_on && !r.drain) continue;
  const c = (x) => (x ? `${x.passed} passed, ${x.failed} failed, ${x.skipped} skipped` : '–');
  const d = r.drain
    ? `${r.drain.passed ? 'ok' : 'FAIL'}: ${r.drain.in_flight_at_signal ?? '?'} in flight, exit ${r.drain.exit_code} after ${r.drain.exit_after_s} s`
    : '–';
  lines.push(
    `| ${r.preset} | ${mb(r.image?.size_bytes)} | ${s(r.build?.cold_s)} | ${s(r.build?.warm_s)} | ${s(r.time_to_healthy_s)} | ${c(r.conformance?.auth_on)} | ${c(r.conformance?.auth_off_docs_off_rate_limited)} | ${c(r.conformance?.token_budget)} | ${c(r.conformance?.fallback_models_response_cache)} | ${c(r.conformance?.mcp)} | ${d} |`,
  );
}
const runRows = reports.filter((r) => r.runs);
if (runRows.length) {
  lines.push('', '## Background runs (test/runs: api + 2 workers, one SIGTERMed and one SIGKILLed mid-load, replaced)', '');
  lines.push(
    '| preset | checks | runs | runs/s | queue wait p50 / p99 | SIGTERM: in flight, finished in grace | SIGKILL: runs lost, taken over after, all finished after |',
  );
  lines.push('| --- | --- | ---: | ---: | ---: | --- | --- |');
  const runFailures = [];
  for (const r of runRows) {
    const x = r.runs;
    const n = x.checks?.length ?? 0;
    const bad = (x.checks ?? []).filter((c) => !c.ok);
    const w = x.queue_wait_s;
    const k = x.sigkill;
    const t = k?.taken_over_after_s;
    const took = t == null ? '–' : typeof t === 'number' ? `${t} s` : `${t.first}–${t.last} s`;
    lines.push(
      `| ${r.preset} | ${n - bad.length}/${n} passed | ${x.succeeded ?? '–'}/${x.runs ?? '–'} | ${x.runs_per_s ?? '–'} | ${w ? `${w.p50} / ${w.p99} s` : '–'} | ${x.sigterm ? `${x.sigterm.in_flight}, ${x.sigterm.finished_in_grace} (exit ${x.sigterm.exit})` : '–'} | ${k ? `${k.runs_lost}, ${took}, ${s(k.recovered_after_s)}` : '–'} |`,
    );
    for (const c of bad) runFailures.push(`- ${r.preset}: failed: ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
  }
  if (runFailures.length) lines.push('', ...runFailures);
}
const evalRows = reports.filter((r) => r.evals);
if (evalRows.length) {
  lines.push('', '## Evals (`make eval` against the hardened container, fake model)', '');
  lines.push('| preset | cases passed | per set | tokens in / out | latency per turn p50 / p95 | gate | misbehaving fake model |');
  lines.push('| --- | ---: | --- | ---: | ---: | --- | --- |');
  for (const r of evalRows) {
    const a = r.evals.shipped;
    const b = r.evals.misbehaving;
    const sets = a
      ? Object.entries(a.sets)
          .map(([n, x]) => `${n} ${x.passed}/${x.cases}`)
          .join(', ')
      : '–';
    const shipped = a
      ? `| ${a.passed}/${a.cases} | ${sets} | ${a.tokens.input} / ${a.tokens.output} | ${a.latency_ms.p50} / ${a.latency_ms.p95} ms | ${a.gate_passed ? 'passed' : 'FAILED'} (${a.seconds} s)`
      : '| – | – | – | – | not run';
    const bad = b
      ? `exit ${b.exit_code}, gate ${b.gate_passed ? 'passed (WRONG)' : 'failed'} with ${b.reasons} reasons, e.g. ${String(b.first_reasons[0] ?? '').replace(/\|/g, '\\|')} (${b.seconds} s)`
      : '–';
    lines.push(`| ${r.preset} ${shipped} | ${bad} |`);
  }
}
const faultLines = faultsLines(reports);
if (faultLines.length) lines.push('', '## Faults (test/faults)', ...faultLines);
const withFaults = reports.filter((r) => r.faults_connection);
if (withFaults.length) {
  lines.push('', '## Faults (connection level)', '');
  lines.push(
    '| preset | checks | header bomb RSS before / peak / after | slowloris closed (last after) | idle closed (last after) | endless body | SIGTERM with it in flight |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of withFaults) {
    const f = r.faults_connection;
    const g = f.figures ?? {};
    const n = f.checks?.length ?? 0;
    const bad = (f.checks ?? []).filter((c) => !c.ok).length;
    const rss = g.header_bomb ? `${g.header_bomb.rss_mb.before} / ${g.header_bomb.rss_mb.peak} / ${g.header_bomb.rss_mb.after} MB` : '–';
    const closed = (x) => (x ? `${x.connections - x.still_open}/${x.connections} (${s(x.last_closed_s)})` : '–');
    const body = g.endless_body ? `${g.endless_body.status} after ${s(g.endless_body.after_s)}` : '–';
    const term = g.sigterm_with_endless_body ? `exit ${g.sigterm_with_endless_body.exit_code} after ${s(g.sigterm_with_endless_body.exit_after_s)}` : '–';
    lines.push(`| ${r.preset} | ${n - bad}/${n} passed in ${s(f.seconds)} | ${rss} | ${closed(g.slowloris)} | ${closed(g.idle)} | ${body} | ${term} |`);
  }
}
for (const r of reports) {
  if (!r.image?.layers?.length) continue;
  lines.push('', `### Layers of ${r.image.ref}`, '', '| size | created by |', '| ---: | --- |');
  for (const l of r.image.layers) {
    if (!l.size_bytes) continue;
    lines.push(`| ${mb(l.size_bytes)} | \`${l.created_by.replace(/\|/g, '\\|').replace(/`/g, "'")}\` |`);
  }
}
const browsed = reports.filter((r) => r.browser);
if (browsed.length) {
  lines.push('', '## The playground in a browser', '');
  lines.push(
    'Headless Chromium against the hardened container (test/browser/playground.mjs): stream, tool call, trace id, session, reload, errors, markup as text, CSP.',
    '',
  );
  for (const r of browsed) {
    const b = r.browser;
    lines.push(`- ${r.preset}: ${b.passed ? 'ok' : 'FAIL'}, ${b.checks_passed} checks passed, ${b.checks_failed.length} failed`);
    for (const f of b.checks_failed) lines.push(`  - failed: ${f}`);
    for (const shot of b.screenshots) lines.push(`  - ![${r.preset}: ${shot.replace(/^.*\//, '')}](${shot})`);
  }
}
const failedTests = reports.flatMap((r) =>
  [...Object.values(r.conformance ?? {}), r.observability, r.faults?.tests].flatMap((c) => (c?.failed_tests ?? []).map((t) => `${r.preset}: ${t}`)),
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
