// The targets and the section of issue 22 items 1-3 (turn cost, streaming relay,
// overload), for scripts/bench/report.mjs.
const fmtX = (x) => (typeof x === 'number' ? `${x.toFixed(2)}×` : 'n/a');
const fmt = (x, unit = '') => (typeof x === 'number' ? `${x}${unit}` : 'n/a');
const code = (s) => `\`${String(s).replace(/`/g, "'")}\``;

export function speedTargets(results) {
  const S = results.groups?.service;
  const V = results.groups?.streaming?.ours;
  const t = [];
  for (const [fw, limit] of [
    ['fastapi', 0.5],
    ['litestar', 0.6],
  ]) {
    const r = S?.vsBareFastapi?.chat?.[`${fw}-minimal`];
    t.push({
      id: `turn-vs-bare-${fw}`,
      what: `/v1/chat (${fw} + minimal, fake model) ≥ ${limit}× the req/s of a bare FastAPI POST endpoint`,
      measured: fmtX(r),
      ok: typeof r === 'number' ? r >= limit : null,
    });
  }
  const T = results.groups?.streaming?.turn?.median;
  for (const [fw, limit] of [
    ['fastapi', 0.5],
    ['litestar', 0.6],
  ]) {
    const r = T?.[fw]?.bareOverCpu;
    t.push({
      id: `turn-cpu-vs-bare-${fw}`,
      what: `the same by CPU per request: bare FastAPI ÷ ${fw} + minimal ≥ ${limit}× (streaming group)`,
      measured: r
        ? `${fmtX(r)} (${T[fw].cpuUsPerRequest} vs ${T.hello.cpuUsPerRequest} µs${T[`${fw}Before`] ? `; before ${fmtX(T[`${fw}Before`].bareOverCpu)}` : ''})`
        : 'n/a',
      ok: typeof r === 'number' ? r >= limit : null,
    });
  }
  const chat = S?.scenarios?.chat?.['fastapi-minimal'];
  const spread = chat ? chat.p99ms / chat.p50ms : null;
  t.push({
    id: 'turn-p99',
    what: '/v1/chat (fastapi + minimal) p99 ≤ 3× p50 at -c32',
    measured: chat ? `${fmtX(spread)} (p50 ${chat.p50ms} ms, p99 ${chat.p99ms} ms)` : 'n/a',
    ok: typeof spread === 'number' ? spread <= 3 : null,
  });
  const c240 = V?.closed_c240;
  t.push({
    id: 'relay-streams',
    what: 'streaming relay ≥ 240 streams/s of 50-token answers per worker',
    measured: fmt(c240?.streams_per_s, ' streams/s'),
    ok: typeof c240?.streams_per_s === 'number' ? c240.streams_per_s >= 240 : null,
  });
  t.push({
    id: 'relay-cpu',
    what: 'streaming relay ≤ 75 µs of CPU per relayed token',
    measured: fmt(c240?.cpu_us_per_token, ' µs'),
    ok: typeof c240?.cpu_us_per_token === 'number' ? c240.cpu_us_per_token <= 75 : null,
  });
  const added = V?.closed_c100 && V?.upstream_alone_c100 ? V.closed_c100.ttft_p99_ms - V.upstream_alone_c100.ttft_p99_ms : null;
  t.push({
    id: 'relay-ttft',
    what: 'time to first token added by the service ≤ 50 ms p99 (100 streams, below saturation)',
    measured:
      typeof added === 'number'
        ? `${Math.round(added)} ms (${V.closed_c100.ttft_p99_ms} ms against the mock's own ${V.upstream_alone_c100.ttft_p99_ms} ms)`
        : 'n/a',
    ok: typeof added === 'number' ? added <= 50 : null,
  });
  const b = V?.burst_2000;
  const stuck = b ? (b.outcomes.timed_out ?? 0) + (b.outcomes.failed ?? 0) : null;
  t.push({
    id: 'overload-2000',
    what: '2,000 streams opened at once: each completes or is refused (none times out or fails)',
    measured: b ? `${outcomes(b.outcomes)}; refusals p99 ${fmt(b.refusal_p99_ms, ' ms')}` : 'n/a',
    ok: typeof stuck === 'number' ? stuck === 0 : null,
  });
  return t;
}

function outcomes(o) {
  return Object.entries(o)
    .map(([k, v]) => `${v} ${k.replaceAll('_', ' ')}`)
    .join(', ');
}

export function streamingSection(G, groupHeader) {
  const out = ['## Streaming relay', '', ...groupHeader(G, 'streaming')];
  if (!G?.ours) return out;
  out.push(
    "One worker relays `/v1/chat/stream` from a mock OpenAI-compatible endpoint (50 tokens, one per 20 ms, so a stream lasts about 1 s). Closed loops keep C streams open (each client opens the next when its last ended); bursts open N at once. Beyond `MAX_INFLIGHT_TURNS` (256 by default, = `LLM_MAX_CONNECTIONS`) a turn is refused with 503 `overloaded`; past `MAX_CONNECTIONS` (1,000) the connection is closed at once. CPU is the service process's, per token of the completed streams. The load generator and the mock run on the same 2 cores as the service: on a busy machine the service gets less than a core, so read the CPU per token and the outcomes rather than the streams per second.",
    '',
    '| load | build | outcomes | streams/s | TTFT p50 / p99 | refusals p99 | slowest | CPU per token |',
    '| --- | --- | --- | ---: | --- | ---: | ---: | ---: |',
  );
  const builds = [['this checkout', G.ours], ...(G.before ? [['before (BENCH_STREAMING_BEFORE)', G.before]] : [])];
  const labels = {
    upstream_alone_c100: 'the mock endpoint alone, 100 streams',
    closed_c100: '100 streams (closed loop)',
    closed_c240: '240 streams (closed loop)',
    burst_500: '500 opened at once',
    burst_2000: '2,000 opened at once',
  };
  for (const [key, label] of Object.entries(labels)) {
    for (const [build, data] of builds) {
      const r = data[key];
      if (!r) continue;
      if (key === 'upstream_alone_c100' && build !== 'this checkout') continue;
      out.push(
        `| ${label} | ${key === 'upstream_alone_c100' ? '(mock)' : build} | ${outcomes(r.outcomes)} | ${fmt(r.streams_per_s)} | ${fmt(r.ttft_p50_ms)} / ${fmt(r.ttft_p99_ms, ' ms')} | ${fmt(r.refusal_p99_ms, ' ms')} | ${fmt(r.slowest_ms, ' ms')} | ${key === 'upstream_alone_c100' ? '(mock process)' : fmt(r.cpu_us_per_token, ' µs')} |`,
      );
    }
  }
  const T = G.turn?.median;
  if (T) {
    out.push(
      '',
      '### The CPU of one turn',
      '',
      `${G.turn.load}. The CPU of the service process per request; "bare ÷ ours" is the bare FastAPI app's CPU per request over this one's (the share of the bare app's throughput a CPU-bound worker reaches), which moves much less with other load on the machine than req/s do.`,
      '',
      '| app | req/s | p50 / p99 | CPU per request | bare ÷ ours |',
      '| --- | ---: | --- | ---: | ---: |',
    );
    const names = {
      fastapi: 'FastAPI + minimal (this checkout)',
      fastapiBefore: 'FastAPI + minimal (before)',
      litestar: 'Litestar + minimal (this checkout)',
      litestarBefore: 'Litestar + minimal (before)',
      hello: 'bare FastAPI (scripts/bench/hello_app.py)',
    };
    for (const [k, label] of Object.entries(names)) {
      const m = T[k];
      if (!m) continue;
      out.push(`| ${label} | ${fmt(m.rps)} | ${fmt(m.p50ms)} / ${fmt(m.p99ms, ' ms')} | ${fmt(m.cpuUsPerRequest, ' µs')} | ${fmtX(m.bareOverCpu)} |`);
    }
  }
  const C = G.clients;
  if (C?.clients) {
    out.push(
      '',
      '### The upstream client alone',
      '',
      `What the HTTP client library costs of a relayed token: ${C.streams} concurrent streams from the same mock endpoint, read to [DONE] by one uvloop process, each \`data:\` line split as the service splits it and parsed with \`json.loads\`; that process's CPU per content token (${C.tokensPerBatch} per batch), the variants taking turns over ${C.rounds} round(s), medians. httpx \`aiter_bytes\` is what the service uses now.`,
      '',
      '| client | CPU per token | ÷ httpx aiter_bytes |',
      '| --- | ---: | ---: |',
    );
    for (const [name, m] of Object.entries(C.clients)) out.push(`| ${name} | ${fmt(m.cpuUsPerToken, ' µs')} | ${fmtX(m.vsHttpxAiterBytes)} |`);
    out.push('', `Reproduce: ${code(C.command)}.`);
  } else if (G.clientsSkipped) out.push('', `The upstream clients were not measured: ${G.clientsSkipped}`);
  out.push(
    '',
    `App: ${G.settings?.app}. Upstream: ${G.settings?.upstream}. Load: ${G.settings?.load}. ${G.settings?.before ? `${G.settings.before}.` : ''} Reproduce: ${code('npm run bench -- --only streaming')}.`,
    '',
  );
  return out;
}
