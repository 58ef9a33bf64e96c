#!/usr/bin/env node
// The eval stage's checks of the generated project's `make eval` reports (evals/out/report.json).
//   eval-check.mjs shipped REPORT                          -> one line of figures; exit 1 unless every case and the gate passed
//   eval-check.mjs misbehaving REPORT EXIT KEY...          -> the gate's reasons; exit 1 unless make eval failed, the gate
//                                                             named a leaked API key and the unoffered tool, and no KEY is in the report
//   eval-check.mjs figures SHIPPED MISBEHAVING EXIT S1 S2 OUT -> OUT: the figures for the pipeline report
import { readFileSync, writeFileSync } from 'node:fs';

const [mode, ...args] = process.argv.slice(2);
const read = (f) => {
  try {
    return JSON.parse(readFileSync(f, 'utf8'));
  } catch {
    return undefined;
  }
};

if (mode === 'shipped') {
  const r = read(args[0]);
  if (!r?.gate) {
    console.log(`  as shipped: no report at ${args[0]}`);
    process.exit(1);
  }
  const sets = Object.entries(r.sets)
    .map(([n, s]) => `${n} ${s.passed}/${s.cases}`)
    .join(', ');
  console.log(
    `  as shipped: ${r.passed}/${r.cases} cases (${sets}); tokens ${r.tokens.input} in / ${r.tokens.output} out; ` +
      `latency per turn p50 ${r.latency_ms.p50} ms, p95 ${r.latency_ms.p95} ms; gate ${r.gate.passed ? 'passed' : 'FAILED'}`,
  );
  for (const reason of r.gate.reasons) console.log(`    - ${reason}`);
  process.exit(r.gate.passed && r.passed === r.cases ? 0 : 1);
} else if (mode === 'misbehaving') {
  const [file, exitCode, ...keys] = args;
  const r = read(file);
  if (!r?.gate) {
    console.log(`  misbehaving: no report at ${file}`);
    process.exit(1);
  }
  const reasons = r.gate.reasons;
  console.log(
    `  misbehaving fake model: make eval exit ${exitCode}, gate ${r.gate.passed ? 'passed (it must fail)' : 'FAILED as it must'}; ${reasons.length} reasons:`,
  );
  for (const reason of reasons.slice(0, 4)) console.log(`    - ${reason}`);
  if (reasons.length > 4) console.log(`    ... and ${reasons.length - 4} more`);
  const problems = [];
  if (exitCode === '0') problems.push('make eval exited 0');
  if (!reasons.some((x) => /configured secret \(API_KEYS\[\d+\]/.test(x))) problems.push('the gate did not name the leaked API key');
  if (!reasons.some((x) => /'shell', a tool the service does not offer/.test(x))) problems.push('the gate did not name the unoffered tool');
  if (keys.some((k) => readFileSync(file, 'utf8').includes(k))) problems.push('the report contains a configured API key');
  for (const p of problems) console.log(`  ${p}`);
  process.exit(problems.length ? 1 : 0);
} else if (mode === 'figures') {
  const [shipped, misbehaving, exitCode, shippedS, misbehavingS, out] = args;
  const a = read(shipped);
  const b = read(misbehaving);
  writeFileSync(
    out,
    `${JSON.stringify({
      shipped: a?.gate && {
        cases: a.cases,
        passed: a.passed,
        sets: a.sets,
        tokens: a.tokens,
        latency_ms: a.latency_ms,
        gate_passed: a.gate.passed,
        seconds: Number(shippedS),
      },
      misbehaving: b?.gate && {
        exit_code: Number(exitCode),
        gate_passed: b.gate.passed,
        reasons: b.gate.reasons.length,
        first_reasons: b.gate.reasons.slice(0, 3),
        seconds: Number(misbehavingS),
      },
    })}\n`,
  );
} else {
  console.error('usage: eval-check.mjs shipped|misbehaving|figures ...');
  process.exit(2);
}
