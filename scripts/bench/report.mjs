// BENCHMARKS.md and the README's "## Benchmarks" section, regenerated from
// bench/results.json (npm run bench; `npm run bench -- --report` alone).
import fs from 'node:fs';
import path from 'node:path';
import { GROUPS, ROOT } from './lib.mjs';
import { readRunsPipeline, runsPipelineSection } from './report-runs.mjs';
import { speedTargets, streamingSection } from './report-speed.mjs';

const MB = 1e6;
const fmtMB = (b) => (typeof b === 'number' ? `${(b / MB).toFixed(1)} MB` : 'n/a');
const fmtMs = (x) => (typeof x === 'number' ? `${Math.round(x)} ms` : 'n/a');
const fmtS = (x) => (typeof x === 'number' ? `${x.toFixed(1)} s` : 'n/a');
const fmtX = (x) => (typeof x === 'number' ? `${x.toFixed(2)}×` : 'n/a');
const fmtN = (x) => (typeof x === 'number' ? Math.round(x).toLocaleString('en-US') : 'n/a');
const fmtPct = (x) => (typeof x === 'number' ? `${x.toFixed(1)} %` : 'n/a');
const pass = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? '**pass**' : '**FAIL**');
const code = (s) => `\`${String(s).replace(/`/g, "'")}\``;

/** Every target of the issues, evaluated from the results (null: not measured). */
export function targets(results) {
  const G = results.groups?.generator;
  const I = results.groups?.image;
  const S = results.groups?.service;
  const ours = G?.tools?.['create-agent-service'];
  const t = [];
  const gen = ours?.generate?.medianMs;
  const t3 = G?.tools?.['create-t3-app']?.generate?.medianMs;
  const r = typeof gen === 'number' && typeof t3 === 'number' ? t3 / gen : null;
  t.push({
    id: 'generate-vs-t3',
    what: 'non-interactive generation ≥ 2× faster than create-t3-app',
    measured: r === null ? 'n/a' : `${r.toFixed(2)}× (${fmtMs(gen)} vs ${fmtMs(t3)})`,
    ok: r === null ? null : r >= 2,
  });
  const fp = ours?.firstPrompt?.medianMs;
  t.push({ id: 'first-prompt', what: 'time to first prompt ≤ 150 ms', measured: fmtMs(fp), ok: typeof fp === 'number' ? fp <= 150 : null });
  const vite = G?.tools?.['create-vite'];
  const vg = vite?.generate?.medianMs;
  const rv = typeof gen === 'number' && typeof vg === 'number' ? gen / vg : null;
  t.push({
    id: 'generate-vs-vite',
    what: "non-interactive generation of the default preset within 1.3× of create-vite's time",
    measured: rv === null ? 'n/a' : `${rv.toFixed(2)}× (${fmtMs(gen)} vs ${fmtMs(vg)})`,
    ok: rv === null ? null : rv <= 1.3,
  });
  const vfp = vite?.firstPrompt?.medianMs;
  t.push({
    id: 'first-prompt-vs-vite',
    what: "time to first prompt no slower than create-vite's",
    measured: typeof fp === 'number' && typeof vfp === 'number' ? `${fmtMs(fp)} vs ${fmtMs(vfp)}` : 'n/a',
    ok: typeof fp === 'number' && typeof vfp === 'number' ? fp <= vfp : null,
  });
  t.push({
    id: 'generate',
    what: 'non-interactive generation of the default preset ≤ 400 ms (median)',
    measured: fmtMs(gen),
    ok: typeof gen === 'number' ? gen <= 400 : null,
  });
  const inst = ours?.install?.bytes;
  t.push({
    id: 'install-size',
    what: 'installed size of the published package with its dependencies ≤ 10 MB',
    measured: fmtMB(inst),
    ok: typeof inst === 'number' ? inst <= 10 * MB : null,
  });
  const b = I?.builds?.generated;
  t.push({
    id: 'layers-over-base',
    what: 'service layers ≤ 80 MB over the base image',
    measured: fmtMB(b?.layersOverBaseBytes),
    ok: typeof b?.layersOverBaseBytes === 'number' ? b.layersOverBaseBytes <= 80 * MB : null,
  });
  t.push({
    id: 'warm-rebuild',
    what: 'rebuild after a one-line code change ≤ 20 % of the cold build (dependency layer cached)',
    measured:
      typeof b?.warmOverCold === 'number'
        ? `${(b.warmOverCold * 100).toFixed(0)} % (${fmtS(b.warmRebuildSeconds)} / ${fmtS(b.coldBuildSeconds)}; dependency layer ${b.dependencyLayerCachedOnRebuild ? 'cached' : 'NOT cached'})`
        : 'n/a',
    ok: typeof b?.warmOverCold === 'number' ? b.warmOverCold <= 0.2 && b.dependencyLayerCachedOnRebuild === true : null,
  });
  for (const [obs, limit] of [
    ['prometheus', 10],
    ['otel', 20],
  ]) {
    for (const fw of Object.keys(S?.observabilityCost ?? {})) {
      const cost = S.observabilityCost[fw]?.chat?.[obs];
      // Read on CPU per request where measured (see the service group's notes).
      const c = cost?.cpuCostPct ?? cost?.throughputCostPct;
      t.push({
        id: `${obs}-cost-${fw}`,
        what: `${obs === 'otel' ? 'otel stack (shipped sampler)' : `${obs} stack`} costs ≤ ${limit} % of /v1/chat throughput against minimal (${fw}${cost?.cpuCostPct === undefined ? '' : '; from CPU per request'})`,
        measured: cost?.cpuCostPct === undefined ? fmtPct(c) : `${fmtPct(c)} (req/s: ${fmtPct(cost.throughputCostPct)})`,
        ok: typeof c === 'number' ? c <= limit : null,
      });
    }
  }
  const kb = results.groups?.budgets?.stores?.memory?.keyBudgetCpuCostPct;
  t.push({
    id: 'key-budget-cost',
    what: 'budgets per API key cost ≤ 5 % of /v1/chat throughput (fake model, memory store; from CPU per request)',
    measured: fmtPct(kb),
    ok: typeof kb === 'number' ? kb <= 5 : null,
  });
  t.push(...speedTargets(results));
  return t;
}

function machineLine(m) {
  if (!m) return 'unknown machine';
  return `${m.nproc} CPUs (${m.cpuModel}), ${m.memTotalGB} GB RAM, ${m.kernel}; Node ${m.node}, ${m.python}, ${m.uv}, ${m.podman}, ${m.wrk?.split(' Copyright')[0]}, ${m.hyperfine}`;
}

function groupHeader(g, name) {
  if (!g) return [`_Not measured yet: ${code(`npm run bench -- --only ${name}`)}._`, ''];
  const lines = [
    `Measured ${g.date}${g.quick ? ' (**quick smoke run**: fewer samples, short loads)' : ''} in ${g.seconds} s, load average at start ${g.loadAverageAtStart?.join(' / ')}. Reproduce: ${code(g.command)}.`,
    '',
  ];
  if (g.error) lines.push(`**This group failed:** ${g.error.split('\n')[0]}`, '');
  return lines;
}

function generatorSection(G) {
  const out = ['## Generator', '', ...groupHeader(G, 'generator')];
  if (!G?.tools) return out;
  const ours = G.tools['create-agent-service'];
  out.push(
    `Time to first prompt and non-interactive generation are medians of ${G.promptRuns} and ${G.runs} fresh processes. Ratios are anchor ÷ create-agent-service (above 1: create-agent-service is faster or smaller).`,
    '',
    '| tool | version | first prompt | generation | files | installed size | packages | first prompt ratio | generation ratio | size ratio |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [id, t] of Object.entries(G.tools)) {
    if (t.error) {
      out.push(`| ${id} | | failed: ${t.error.split('\n')[0].replace(/\|/g, '/')} | | | | | | | |`);
      continue;
    }
    const r = G.ratios?.[id];
    const cell = (x) => (x?.error ? `failed (${x.error.split('\n')[0].slice(0, 80).replace(/\|/g, '/')})` : null);
    out.push(
      `| ${id === 'create-agent-service' ? '**create-agent-service**' : id} | ${t.version ?? ''} | ${cell(t.firstPrompt) ?? fmtMs(t.firstPrompt?.medianMs)} | ${cell(t.generate) ?? fmtMs(t.generate?.medianMs)} | ${t.generate?.files ?? ''} | ${fmtMB(t.install?.bytes)} | ${t.install?.packages ?? ''} | ${r ? fmtX(r.firstPrompt) : '1'} | ${r ? fmtX(r.generate) : '1'} | ${r ? fmtX(r.installBytes) : '1'} |`,
    );
  }
  out.push('', 'What each tool generated, and the commands (each run from an empty directory):', '');
  for (const [id, t] of Object.entries(G.tools)) {
    if (t.error) continue;
    out.push(`- **${id}** ${t.version ?? ''}: ${t.preset}.`);
    if (t.firstPrompt?.command) out.push(`  - first prompt: ${code(t.firstPrompt.command)}`);
    if (t.generate?.command) out.push(`  - generation: ${code(t.generate.command)}`);
    if (t.install?.command) out.push(`  - installed size: ${code(t.install.command)}`);
  }
  if (ours?.install?.tarballBytes)
    out.push(
      '',
      `create-agent-service's tarball: ${fmtMB(ours.install.tarballBytes)} packed, ${fmtMB(ours.install.unpackedBytes)} unpacked; no runtime dependencies (a code-split esbuild bundle and the templates).`,
    );
  if (G.notes?.length) out.push('', ...G.notes.map((n) => `- ${n}`));
  out.push('');
  return out;
}

function imageSection(I) {
  const out = ['## Image', '', ...groupHeader(I, 'image')];
  if (!I?.builds) return out;
  const g = I.builds.generated;
  const n = I.builds.naive;
  out.push(
    `The default preset's app, built twice with ${I.engine} from the same local base images (${code(I.baseImages.PYTHON_IMAGE)}, ${fmtMB(I.baseBytes)}; ${code(I.baseImages.UV_IMAGE)}): with its generated Dockerfile, and with the naive one (${code('scripts/bench/naive.Dockerfile')}). Ratios are naive ÷ generated.`,
    '',
    '| | generated | naive | ratio |',
    '| --- | ---: | ---: | ---: |',
    `| image size | ${fmtMB(g?.imageBytes)} | ${fmtMB(n?.imageBytes)} | ${fmtX(I.ratios?.imageBytes)} |`,
    `| layers over the base | ${fmtMB(g?.layersOverBaseBytes)} | ${fmtMB(n?.layersOverBaseBytes)} | ${fmtX(I.ratios?.layersOverBaseBytes)} |`,
    `| cold build | ${fmtS(g?.coldBuildSeconds)} | ${fmtS(n?.coldBuildSeconds)} | ${fmtX(I.ratios?.coldBuild)} |`,
    `| rebuild after a one-line code change | ${fmtS(g?.warmRebuildSeconds)} | ${fmtS(n?.warmRebuildSeconds)} | ${fmtX(I.ratios?.warmRebuild)} |`,
    `| rebuild ÷ cold | ${g ? `${(g.warmOverCold * 100).toFixed(0)} %` : 'n/a'} | ${n ? `${(n.warmOverCold * 100).toFixed(0)} %` : 'n/a'} | |`,
    `| dependency layer cached on rebuild | ${g?.dependencyLayerCachedOnRebuild ? 'yes' : 'no'} | ${n?.dependencyLayerCachedOnRebuild ? 'yes' : 'no'} | |`,
    `| build steps cached on rebuild | ${g ? `${g.rebuildSteps.cached} of ${g.rebuildSteps.total}` : ''} | ${n ? `${n.rebuildSteps.cached} of ${n.rebuildSteps.total}` : ''} | |`,
    '',
    `Samples (s): generated cold ${g?.coldBuildSamples?.join(', ')}, rebuild ${g?.warmRebuildSamples?.join(', ')}; naive cold ${n?.coldBuildSamples?.join(', ')}, rebuild ${n?.warmRebuildSamples?.join(', ')}.`,
    '',
    'Layers over the base:',
    '',
  );
  for (const [id, b] of Object.entries(I.builds)) {
    for (const l of b.layersOverBase ?? []) out.push(`- ${id}: ${fmtMB(l.bytes)} ${code(l.createdBy)}`);
  }
  out.push('', 'Commands:', '');
  for (const [id, b] of Object.entries(I.builds)) {
    out.push(`- ${id}, ${b.dockerfile}:`, `  - cold: ${code(b.commands.cold)}`, `  - rebuild: ${code(b.commands.warm)}`, `  - size: ${code(b.commands.size)}`);
  }
  if (I.notes?.length) out.push('', ...I.notes.map((x) => `- ${x}`));
  out.push('');
  return out;
}

function serviceSection(S) {
  const out = ['## Service', '', ...groupHeader(S, 'service')];
  if (!S?.scenarios) return out;
  const st = S.settings;
  out.push(
    `Load: ${code(st.load)}, ${st.rounds} round(s), ${st.warmupSeconds} s warm-up per endpoint and process. Services: ${st.workers} worker, ${st.python}. ${st.serviceEnv}. /v1/chat body ${code(st.chatBody)} (a fresh session each request; the fake model answers at once unless said otherwise).`,
    '',
    `- prometheus: ${st.prometheus}.`,
    `- otel: ${st.otel}.`,
    ...(st.otelAlwaysOn ? [`- otel, every request traced: ${st.otelAlwaysOn}.`] : []),
    `- bare FastAPI (${code('hello')}): ${code('scripts/bench/hello_app.py')}, the same uvicorn settings, no middleware, no logging.`,
    `- naive (${code('naive')}): ${code('scripts/bench/naive_app.py')}, the seeds' sample chat endpoint: an async handler calling ${code('time.sleep')}.`,
    ...(S.configs?.langgraph
      ? [
          `- FastAPI + LangGraph peer (${code('langgraph')}): ${code('scripts/bench/langgraph_app.py')}, the seeds' and agent-service-toolkit's stack: a compiled ${code('StateGraph')} with one node calling langchain-core's ${code('GenericFakeChatModel')}, a ${code('MemorySaver')} keyed by the session id, ${code('graph.ainvoke')} per request; the same uvicorn settings, in its own pinned environment (${code('scripts/bench/langgraph/requirements.txt')}).`,
        ]
      : []),
    '',
  );
  const label = (id) => {
    const c = S.configs?.[id];
    if (!c) return id;
    if (c.kind === 'baseline') return { hello: 'bare FastAPI', langgraph: 'FastAPI + LangGraph peer' }[id] ?? 'naive (time.sleep)';
    return `${c.framework} + ${c.observability === 'otel-always-on' ? 'otel, every request traced' : c.observability}`;
  };
  const table = (scenario, title, extraCols) => {
    const rows = S.scenarios[scenario] ?? {};
    if (!Object.keys(rows).length) return;
    out.push(
      `### ${title}`,
      '',
      `| service | req/s | p50 | p99 | ${extraCols.map((c) => c.title).join(' | ')} | non-2xx / socket errors |`,
      `| --- | ---: | ---: | ---: | ${extraCols.map(() => '---:').join(' | ')} | ---: |`,
    );
    for (const [id, v] of Object.entries(rows)) {
      out.push(
        `| ${label(id)} | ${fmtN(v.rps)} | ${v.p50ms} ms | ${v.p99ms} ms | ${extraCols.map((c) => c.value(id, v) ?? '').join(' | ')} | ${v.non2xx} / ${v.socketErrors} |`,
      );
    }
    out.push('');
  };
  const vsMinimal = (scenario) => ({
    title: 'throughput vs minimal',
    value: (id) => {
      const c = S.configs?.[id];
      if (c?.kind !== 'generated') return '';
      const base = S.scenarios[scenario]?.[`${c.framework}-minimal`]?.rps;
      const v = S.scenarios[scenario]?.[id]?.rps;
      return base && v ? `${((v / base - 1) * 100).toFixed(1)} %` : '';
    },
  });
  const vsHello = (scenario) => ({
    title: 'throughput vs bare FastAPI',
    value: (id) => {
      const h = S.scenarios[scenario]?.hello?.rps;
      const v = S.scenarios[scenario]?.[id]?.rps;
      return h && v && id !== 'hello' ? fmtX(v / h) : '';
    },
  });
  const vsPeer = (scenario) => ({
    title: 'throughput vs LangGraph peer',
    value: (id) => {
      const v = S.vsLanggraph?.[scenario]?.[id];
      return typeof v === 'number' ? fmtX(v) : '';
    },
  });
  table('health', 'GET /health', [vsMinimal('health'), vsHello('health'), vsPeer('health')]);
  const cpuPerRequest = {
    title: 'CPU per request',
    value: (_id, v) => (typeof v.cpuUsPerRequest === 'number' ? `${fmtN(v.cpuUsPerRequest)} µs` : ''),
  };
  table('chat', 'POST /v1/chat (fake model, no latency)', [cpuPerRequest, vsMinimal('chat'), vsHello('chat'), vsPeer('chat')]);
  table('chatSlowModel', `POST /v1/chat with a ${st.fakeModelLatencyMs.chatSlowModel} ms model`, [vsHello('chatSlowModel'), vsPeer('chatSlowModel')]);
  if (S.vsNaive)
    out.push(
      `Against the naive endpoint, with the same ${st.fakeModelLatencyMs.chatSlowModel} ms model: the generated service (default preset) serves **${S.vsNaive.throughput}×** the throughput with a **${S.vsNaive.p99}×** lower p99 (the ceiling for ${st.load.match(/-c(\d+)/)?.[1]} connections is ${S.vsNaive.idealRps} req/s).`,
      '',
    );
  const oc = S.observabilityCost ?? {};
  if (Object.keys(oc).length) {
    out.push(
      '### Observability cost (throughput lost against minimal: from CPU per request where measured, then from req/s; p99 ratio)',
      '',
      "A CPU-bound worker's throughput is the inverse of its CPU per request; the CPU cost is the median over rounds of each round's pair (the two ran within a minute of each other); req/s also move with the rest of the machine's load.",
      '',
      '| framework | endpoint | prometheus | otel (shipped sampler) | otel, every request traced |',
      '| --- | --- | ---: | ---: | ---: |',
    );
    for (const [fw, byScenario] of Object.entries(oc)) {
      for (const [scenario, v] of Object.entries(byScenario)) {
        const c = (o) =>
          v[o]
            ? `${v[o].cpuCostPct === undefined ? '' : `CPU ${fmtPct(v[o].cpuCostPct)}, `}req/s ${fmtPct(v[o].throughputCostPct)} (p99 ${fmtX(v[o].p99Ratio)})`
            : 'n/a';
        out.push(`| ${fw} | ${scenario === 'chat' ? '/v1/chat' : '/health'} | ${c('prometheus')} | ${c('otel')} | ${c('otel-always-on')} |`);
      }
    }
    out.push(
      '',
      'The otel stack ships with `OTEL_TRACES_SAMPLER=parentbased_ratelimited` (up to 10 new traces per second per worker, every trace a caller sampled), so at these loads almost no request is recorded and the otel column measures the rest of the stack: the server-span context, trace ids in logs and headers, and the metrics of every request. The last column is the price of recording and exporting every request with the OpenTelemetry SDK (two spans per /v1/chat, protobuf-encoded on the exporter thread, which shares the GIL with the event loop).',
      '',
    );
    if (S.slowModelCost)
      out.push(
        `With a ${st.fakeModelLatencyMs.chatSlowModel} ms model (FastAPI), the cost against minimal is ${fmtPct(S.slowModelCost.prometheus?.throughputCostPct)} for prometheus and ${fmtPct(S.slowModelCost['otel-always-on']?.throughputCostPct)} with every request traced.`,
        '',
      );
  }
  const fwc = S.frameworks ?? {};
  if (Object.keys(fwc).length) {
    out.push(
      '### Litestar against FastAPI (same observability, same workers)',
      '',
      '| observability | endpoint | throughput litestar ÷ fastapi | p99 litestar ÷ fastapi |',
      '| --- | --- | ---: | ---: |',
    );
    for (const [obs, byScenario] of Object.entries(fwc)) {
      for (const [scenario, v] of Object.entries(byScenario))
        out.push(`| ${obs} | ${scenario === 'chat' ? '/v1/chat' : '/health'} | ${fmtX(v.litestarOverFastapiThroughput)} | ${fmtX(v.litestarOverFastapiP99)} |`);
    }
    out.push('');
  }
  if (Object.keys(S.skipped ?? {}).length) {
    out.push('### Skipped', '');
    for (const [id, why] of Object.entries(S.skipped)) out.push(`- ${id}: ${why.split('\n')[0]}`);
    out.push('');
  }
  if (S.otlpSink) {
    const tr = S.otlpSink['/v1/traces'];
    const me = S.otlpSink['/v1/metrics'];
    out.push(
      `The OTLP sink received ${tr?.requests ?? 0} trace exports (${fmtMB(tr?.bytes ?? 0)}) and ${me?.requests ?? 0} metric exports during the otel runs.`,
      '',
    );
  }
  out.push('Commands (one process per configuration, started from its generated project):', '');
  for (const [id, c] of Object.entries(S.configs ?? {})) out.push(`- ${label(id)}: ${code(c.command)}`);
  out.push(
    `- load: ${code(`BENCH_METHOD=POST BENCH_BODY='${st.chatBody}' ${st.load.split(' (')[0]} http://127.0.0.1:<port>/v1/chat`)} (GET /health: no BENCH_* variables)`,
  );
  if (S.notes?.length) out.push('', ...S.notes.map((x) => `- ${x}`));
  out.push('');
  return out;
}

function instrumentsSection(I) {
  const out = ['## OpenTelemetry instruments', '', ...groupHeader(I, 'instruments')];
  if (!I || I.error) return out;
  out.push(
    `${I.settings.what}.`,
    '',
    '| metric updates of one turn (SDK) | (own) | whole turn | SDK cost, share of throughput |',
    '| --- | --- | --- | --- |',
    `| ${I.sdkUs} µs | ${I.ownUs} µs | ${I.turnUs} µs | ${I.sdkThroughputCostPct} % |`,
    '',
    'The otel layer keeps its own counters and histograms (`_state.Tally`, `_histograms.DurationHistogram`) only while the SDK would cost more than 5 % of `/v1/chat` throughput.',
    '',
  );
  return out;
}

const STREAM_LABELS = {
  ours: '**create-agent-service** (default preset)',
  langgraph: 'FastAPI + LangGraph peer (`graph.astream`)',
  hello: 'bare FastAPI relay (httpx)',
  upstream: 'the mock upstream alone',
};

function burstSection(T) {
  const out = ['## Streaming at scale', '', ...groupHeader(T, 'burst')];
  if (!T?.runs) return out;
  const st = T.settings;
  out.push(
    `N streams opened at once, each relaying one answer of the mock upstream (${st.upstream}). Client: ${st.client}. Deadline ${st.deadlineSeconds} s per burst; ${st.workers} worker per service, a fresh process for every service and N.`,
    '',
    '| service | N | done | refused / closed / errors / timed out | streams/s | last done | time to first token p50 / p99 | stream p99 | streams with a token / tokens received (median, every stream) | streams/s vs LangGraph peer |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const id of ['ours', 'langgraph', 'hello', 'upstream']) {
    for (const r of T.runs[id] ?? []) {
      const vs = id === 'ours' ? T.vsLanggraph?.[r.n] : undefined;
      const ms = (x) => (typeof x === 'number' ? `${fmtN(x)} ms` : 'n/a');
      out.push(
        `| ${STREAM_LABELS[id] ?? id} | ${fmtN(r.n)} | ${fmtN(r.done)} (${Math.round(r.completedShare * 100)} %) | ${r.refused} / ${r.closed} / ${r.errors} / ${r.timeouts} | ${r.streamsPerSecond} | ${r.lastDoneS === null ? 'n/a' : fmtS(r.lastDoneS)} | ${ms(r.ttftP50ms)} / ${ms(r.ttftP99ms)} | ${ms(r.durationP99ms)} | ${r.startedStreams === undefined ? 'n/a' : `${fmtN(r.startedStreams)} / ${r.tokensMedianAll}`} | ${typeof vs === 'number' ? fmtX(vs) : ''} |`,
      );
    }
  }
  out.push('', 'Commands:', '');
  for (const [id, c] of Object.entries(T.configs ?? {})) out.push(`- ${STREAM_LABELS[id] ?? id}: ${code(c.command)}`);
  if (Object.keys(T.skipped ?? {}).length) out.push('', ...Object.entries(T.skipped).map(([id, why]) => `- skipped ${id}: ${why.split('\n')[0]}`));
  if (T.notes?.length) out.push('', ...T.notes.map((x) => `- ${x}`));
  out.push('');
  return out;
}

const SERVER_LABELS = {
  'uvicorn-httptools-bounded': 'uvicorn + httptools with http_bounds.py (shipped: `python -m <pkg>`)',
  'uvicorn-httptools': 'uvicorn + httptools, plain',
  'uvicorn-httptools-bounded-cli': 'uvicorn CLI + `--http <pkg>.http_bounds:BoundedHttpToolsProtocol --no-proxy-headers` (the subclass alone, default bounds)',
  'uvicorn-httptools-cli-no-proxy': 'uvicorn CLI + httptools, `--no-proxy-headers` (the same without the subclass)',
  'uvicorn-h11': 'uvicorn + h11, `--h11-max-incomplete-event-size 16384`',
  granian: 'granian (`--http1-buffer-size 16384 --http1-header-read-timeout 10000`)',
  hypercorn: 'hypercorn (`h11_max_incomplete_size = 16384`, `--read-timeout 10`, `--keep-alive 5`)',
};

function serversSection(V) {
  const out = ['## HTTP servers', ''];
  out.push(
    "The generated app (FastAPI, minimal observability, fake model) under each candidate server, one worker, attacked at the connection level and loaded with wrk (the figures behind the choice of server; issue 14 item 1). The app's own middleware answers the endless body with 408 (`BODY_READ_TIMEOUT`, 15 s) under every server; SIGTERM exit `-15` means the process died by the signal instead of exiting 0.",
    '',
  );
  out.push(
    "The shipped server is uvicorn + httptools with `http_bounds.py`, a subclass of uvicorn's httptools protocol (header bytes, head-read timeout, connection cap, JSON 400 for malformed HTTP). Hand-written because no candidate gives every bound the contract needs: httptools has no header limit and uvicorn no head-read timeout (plain: the 16 MB header is served, slowloris and idle connections stay open); h11's incomplete-event limit bounds header bytes but not time, and it takes a request with both Content-Length and Transfer-Encoding; granian bounds head size and time itself but answers malformed HTTP in plain text without `X-Request-ID`, has no per-worker connection cap (its backpressure bounds requests), and owns the workers and signals, so the runner's drain (`/ready` 503 at once while requests finish) would have to be rebuilt on it; hypercorn closes slow connections but serves far fewer requests. The throughput column is the cost of each; the two CLI rows isolate the subclass's own cost from the runner's. On this shared 2-core machine read differences of a few per cent as noise.",
    '',
  );
  out.push(...groupHeader(V, 'servers'));
  if (!V?.candidates) return out;
  const closed = (x) => (x ? `${x.closed}/${x.of}${x.last_s ? ` (${x.last_s} s)` : ''}` : 'n/a');
  out.push(
    '| server | 16 MB header | 20 × 16 MB header: RSS before / peak / after | slowloris closed in 20 s | idle closed in 20 s | malformed HTTP (negative CL; CL + TE; space in name) | /v1/chat req/s (ratio) | SIGTERM, 20 in flight: ok, exit, s | SIGTERM, endless body: exit, s |',
    '| --- | --- | --- | --- | --- | --- | ---: | --- | --- |',
  );
  for (const [id, c] of Object.entries(V.candidates)) {
    if (c.error) {
      out.push(`| ${SERVER_LABELS[id] ?? id} | failed: ${c.error} | | | | | | | |`);
      continue;
    }
    const rss = c.bomb ? `${c.bomb.rss_mb.join(' / ')} MB (+${c.bomb.growth_mb})` : 'n/a';
    const bad = c.malformed ? Object.values(c.malformed).join('; ') : 'n/a';
    const rps = typeof c.chat_rps === 'number' ? `${fmtN(c.chat_rps)} (${fmtX(c.chat_rps_ratio)})` : 'n/a';
    const drain = c.drain ? `${c.drain.ok}/${c.drain.of}, ${c.drain.exit}, ${c.drain.exit_s}` : 'n/a';
    const term = c.sigterm_endless_body ? `${c.sigterm_endless_body.exit}, ${c.sigterm_endless_body.exit_s}` : 'n/a';
    out.push(`| ${SERVER_LABELS[id] ?? id} | ${c.head16mb} | ${rss} | ${closed(c.slowloris)} | ${closed(c.idle)} | ${bad} | ${rps} | ${drain} | ${term} |`);
  }
  out.push(
    '',
    `Load: ${V.settings?.load}. Attacks: ${V.settings?.attacks}. Other candidates installed beside the lock: ${V.settings?.extraPackages?.join(', ')}.`,
    '',
  );
  return out;
}

const BUDGET_CONFIG_LABELS = {
  keys: 'API keys only (baseline)',
  keyBudget: '+ `KEY_TOKEN_BUDGET_DAILY`',
  keyBudgetPriced: '+ `KEY_TOKEN_BUDGET_DAILY` + `LLM_PRICES`',
};

function budgetsSection(B) {
  const out = ['## Budgets per API key', ''];
  out.push(
    "What the budgets per API key cost on `/v1/chat` (issue 21): the default preset (FastAPI, prometheus), the fake model without latency, one worker, API keys on in every configuration. The key's counter is read in `admit()` and incremented when the turn ends; `LLM_PRICES` adds the cost of each turn (the response's `usage.cost_usd`, `agent_cost_usd_total`). The configurations run side by side, back to back in each round; each cost is the median over rounds of that round's ratio. Req/s of back-to-back runs drift with the rest of the machine's load; the CPU time a request takes in the service (utime + stime of its process tree) does not, and one CPU-bound worker's throughput is its inverse: the target is read on that column.",
    '',
  );
  out.push(...groupHeader(B, 'budgets'));
  if (!B?.stores) return out;
  out.push(
    '| store | configuration | req/s | p50 | p99 | CPU per request | throughput cost from CPU per request | req/s cost |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [store, s] of Object.entries(B.stores)) {
    for (const [id, c] of Object.entries(s.configs)) {
      const [cpu, rps] =
        id === 'keyBudget'
          ? [s.keyBudgetCpuCostPct, s.keyBudgetCostPct]
          : id === 'keyBudgetPriced'
            ? [s.keyBudgetPricedCpuCostPct, s.keyBudgetPricedCostPct]
            : [null, null];
      out.push(
        `| ${store} | ${BUDGET_CONFIG_LABELS[id] ?? id} | ${fmtN(c.rps)} | ${c.p50ms} ms | ${c.p99ms} ms | ${fmtN(c.cpuUsPerRequest)} µs | ${cpu === null ? '' : fmtPct(cpu)} | ${rps === null ? '' : fmtPct(rps)} |`,
      );
    }
  }
  for (const [store, why] of Object.entries(B.skipped ?? {})) out.push(`| ${store} | not run: ${why} | | | | | | |`);
  out.push('', `Load: ${B.settings?.load}; ${B.settings?.rounds} round(s). Service: ${B.settings?.serviceEnv}.`, '');
  return out;
}

function cacheSection(C) {
  const out = ['## Response cache', '', ...groupHeader(C, 'cache')];
  if (!C?.summary) return out;
  const row = (label, x) =>
    x
      ? `| ${label} | ${x.upstreamCalls} of ${x.turns} | ${x.p50ms} ms | ${x.p90ms} ms | ${x.firstAskedP50ms} ms | ${x.repeatedP50ms} ms | ${x.turnsPerSecond} | ${x.lookups ? `${x.lookups.hit} / ${x.lookups.miss}` : 'n/a'} |`
      : `| ${label} | not measured | | | | | | |`;
  out.push(
    `${C.settings.workload}. Model: ${C.settings.model}. Service: ${C.settings.app}.`,
    '',
    '| response cache | upstream calls | p50 | p90 | p50, first asked | p50, repeated | turns/s | cache hits / misses (`agent_response_cache_lookups_total`, last round) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('off (`RESPONSE_CACHE_TTL_SECONDS=0`, the default)', C.summary.off),
    row('on', C.summary.on),
    '',
    'Upstream calls and hits are counted by the model endpoint and the service; a repeat that arrives while its first ask is still in flight is a miss (the cache does not merge concurrent identical turns).',
    '',
  );
  return out;
}

export function renderBenchmarks(results) {
  const m = results.machine;
  const out = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` from bench/results.json; do not edit by hand (`npm run bench -- --report` regenerates it). -->',
    '',
    `Everything here is measured on one machine, side by side in one run, by ${code('npm run bench')} (${code('scripts/bench.mjs')}); the raw figures are in ${code('bench/results.json')}. Absolute times on a shared 2-core machine are noisy: read the ratios.`,
    '',
    `Machine: ${machineLine(m)}.`,
    '',
    `Last run: ${code(results.lastRun?.command ?? 'npm run bench')} on ${results.lastRun?.date ?? 'n/a'}${results.lastRun?.quick ? ' (quick)' : ''}, ${results.lastRun?.seconds ?? '?'} s. Groups: ${code(`npm run bench -- --only ${GROUPS.join('|')}`)}; ${code('--quick')} for a short smoke run.`,
    '',
    '## Targets',
    '',
    '| target | measured | result |',
    '| --- | --- | --- |',
    ...targets(results).map((t) => `| ${t.what} | ${t.measured} | ${pass(t.ok)} |`),
    '',
    ...generatorSection(results.groups?.generator),
    ...imageSection(results.groups?.image),
    ...serviceSection(results.groups?.service),
    ...instrumentsSection(results.groups?.instruments),
    ...serversSection(results.groups?.servers),
    ...budgetsSection(results.groups?.budgets),
    ...cacheSection(results.groups?.cache),
    ...streamingSection(results.groups?.streaming, groupHeader),
    ...burstSection(results.groups?.burst),
    ...runsPipelineSection(readRunsPipeline()),
  ];
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

export function renderReadmeSection(results) {
  const G = results.groups?.generator;
  const I = results.groups?.image;
  const S = results.groups?.service;
  const ours = G?.tools?.['create-agent-service'];
  const lines = [
    `Measured by ${code('npm run bench')} on a ${results.machine?.nproc ?? '?'}-core machine, side by side with the anchors in one run; the details, every command and the raw figures are in [BENCHMARKS.md](BENCHMARKS.md) (${code('bench/results.json')}).`,
    '',
    '| | create-agent-service | compared with |',
    '| --- | ---: | --- |',
  ];
  if (ours && !ours.error) {
    const anchors = ['create-vite', 'create-t3-app', 'fastapi_template'].filter((a) => G.tools[a] && !G.tools[a].error);
    const list = (key) => anchors.map((a) => `${a} ${key === 'install' ? fmtMB(G.tools[a].install?.bytes) : fmtMs(G.tools[a][key]?.medianMs)}`).join(', ');
    lines.push(`| time to first prompt | ${fmtMs(ours.firstPrompt?.medianMs)} | ${list('firstPrompt')} |`);
    lines.push(`| generation, default preset (median) | ${fmtMs(ours.generate?.medianMs)} | ${list('generate')} |`);
    lines.push(`| installed size (package + dependencies) | ${fmtMB(ours.install?.bytes)} | ${list('install')} |`);
  }
  const g = I?.builds?.generated;
  const n = I?.builds?.naive;
  if (g && n) {
    lines.push(`| image layers over the base | ${fmtMB(g.layersOverBaseBytes)} | naive Dockerfile ${fmtMB(n.layersOverBaseBytes)} |`);
    lines.push(
      `| cold build / rebuild after a code change | ${fmtS(g.coldBuildSeconds)} / ${fmtS(g.warmRebuildSeconds)} | naive ${fmtS(n.coldBuildSeconds)} / ${fmtS(n.warmRebuildSeconds)} |`,
    );
  }
  const c = S?.scenarios?.chat;
  if (c?.['fastapi-minimal']) {
    const cost = S.observabilityCost?.fastapi?.chat;
    const costOf = (x) => x?.cpuCostPct ?? x?.throughputCostPct;
    lines.push(
      `| /v1/chat req/s, FastAPI: minimal / prometheus / otel | ${fmtN(c['fastapi-minimal']?.rps)} / ${fmtN(c['fastapi-prometheus']?.rps)} / ${fmtN(c['fastapi-otel']?.rps)} | bare FastAPI ${fmtN(c.hello?.rps)}; prometheus costs ${fmtPct(costOf(cost?.prometheus))}, otel ${fmtPct(costOf(cost?.otel))} (every request traced: ${fmtPct(costOf(cost?.['otel-always-on']))})${cost?.prometheus?.cpuCostPct === undefined ? '' : ', from CPU per request'} |`,
    );
    if (c['litestar-minimal'])
      lines.push(
        `| /v1/chat req/s, Litestar: minimal / prometheus / otel | ${fmtN(c['litestar-minimal']?.rps)} / ${fmtN(c['litestar-prometheus']?.rps)} / ${fmtN(c['litestar-otel']?.rps)} | |`,
      );
  }
  if (c?.langgraph && c['fastapi-prometheus']) {
    lines.push(
      `| /v1/chat req/s, default preset vs the FastAPI + LangGraph peer | ${fmtN(c['fastapi-prometheus'].rps)} (p99 ${Math.round(c['fastapi-prometheus'].p99ms)} ms) | LangGraph peer ${fmtN(c.langgraph.rps)} (p99 ${Math.round(c.langgraph.p99ms)} ms): ours ${fmtX(S.vsLanggraph?.chat?.['fastapi-prometheus'])} |`,
    );
  }
  const T = results.groups?.burst;
  if (T?.runs?.ours?.length) {
    const cell = (r) => (r ? `${r.streamsPerSecond} streams/s, ${Math.round(r.completedShare * 100)} % done` : 'n/a');
    for (const r of T.runs.ours) {
      const peer = T.runs.langgraph?.find((x) => x.n === r.n);
      lines.push(`| ${fmtN(r.n)} streams at once (50 tokens × 20 ms upstream) | ${cell(r)} | LangGraph peer ${cell(peer)} |`);
    }
  }
  if (S?.vsNaive) {
    const slow = S.scenarios.chatSlowModel;
    lines.push(
      `| /v1/chat with a ${S.settings.fakeModelLatencyMs.chatSlowModel} ms model: req/s, p99 | ${fmtN(slow['fastapi-prometheus']?.rps)}, ${Math.round(slow['fastapi-prometheus']?.p99ms)} ms | naive time.sleep endpoint ${fmtN(slow.naive?.rps)}, ${Math.round(slow.naive?.p99ms)} ms |`,
    );
  }
  const ts = targets(results).filter((t) => t.ok !== null);
  lines.push(
    '',
    `Targets: ${ts.filter((t) => t.ok).length} of ${ts.length} met${
      ts.some((t) => !t.ok)
        ? `; missed: ${ts
            .filter((t) => !t.ok)
            .map((t) => `${t.what} (${t.measured.split(' (')[0]})`)
            .join('; ')}`
        : ''
    }.`,
  );
  return `${lines.join('\n')}\n`;
}

/** Replace the body of the README's "## Benchmarks" section (up to the next "## " heading). */
export function updateReadme(readmeText, body) {
  const lines = readmeText.split('\n');
  const start = lines.findIndex((l) => l.trim() === '## Benchmarks');
  if (start < 0) return null;
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const after = lines.slice(end);
  const replaced = [...lines.slice(0, start + 1), '', ...body.trimEnd().split('\n'), ...(after.length ? ['', ...after] : [''])];
  return replaced.join('\n');
}

export function writeReports(results, { outFile } = {}) {
  fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), renderBenchmarks(results));
  const readme = path.join(ROOT, 'README.md');
  if (fs.existsSync(readme)) {
    const updated = updateReadme(fs.readFileSync(readme, 'utf8'), renderReadmeSection(results));
    if (updated !== null) fs.writeFileSync(readme, updated);
  }
  return outFile;
}
