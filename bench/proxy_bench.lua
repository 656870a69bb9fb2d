-- wrk script for bench/proxy_bench.sh: POSTs one JSON body on every request and prints the run's
-- figures as one machine-readable line. Configured from the environment, since wrk passes no
-- arguments to a script's setup in the thread that sends:
--   BENCH_BODY      file holding the request body (sent as is, Content-Type: application/json)
--   BENCH_KEY       an x420 key, sent as "Authorization: Bearer …" (direct and nginx ignore it)
--   BENCH_HEADER    optional extra "Name: value" header (the mock upstream's test controls)
--   BENCH_DELAY_MS  optional pause after each reply, per connection: wrk2's fixed rate is not in
--                   Debian, so N connections each pausing D ms give about N / (D ms + latency)
--                   requests a second. The pause is not counted in the latency wrk records.

local f = assert(io.open(assert(os.getenv("BENCH_BODY"), "BENCH_BODY is not set"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
-- curl and some SDKs send "Expect: 100-continue" for bodies over 1 KB; wrk never does.
local key = os.getenv("BENCH_KEY")
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
local extra = os.getenv("BENCH_HEADER")
if extra and extra ~= "" then
  local name, value = extra:match("^([^:]+):%s*(.*)$")
  wrk.headers[name] = value
end

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
if pause > 0 then
  function delay() return pause end
end

-- Latency figures are wrk's own: microseconds, exact per request (not sampled).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk_result requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
    "connect=%d read=%d write=%d status=%d timeout=%d bytes=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
