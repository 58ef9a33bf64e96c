-- wrk script used by `npm run bench` (scripts/bench.mjs).
-- BENCH_METHOD / BENCH_BODY (environment) choose the request; POST bodies are
-- sent as application/json. At the end, one JSON line prefixed "BENCH_JSON "
-- with throughput, latency percentiles (microseconds) and error counts.
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
wrk.method = method
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
-- BENCH_AUTHORIZATION: an Authorization header for every request (a service with API_KEYS).
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

local non2xx = 0
local thread_counters = {}

function setup(thread)
  table.insert(thread_counters, thread)
end

function init(args)
  bad = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(thread_counters) do
    bad_total = bad_total + (t:get("bad") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"non2xx":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    bad_total, e.connect, e.read, e.write, e.status, e.timeout))
end
