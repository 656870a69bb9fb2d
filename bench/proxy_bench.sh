#!/usr/bin/env bash
# What `x420 serve` adds to a request, against the targets of issue 4: ≤ 100 µs p50 and ≤ 1 ms
# p99 added at 1,000 requests/s, saturation throughput ≥ 70 % of nginx's, 1,000 open streams
# in ≤ 150 MB resident. A benchmark, never part of pass/fail: the same load goes, in the same
# run and interleaved, to a fast upstream directly (the baseline), through Debian's nginx doing
# a plain proxy_pass, and through x420 with redaction on; the figures are the differences.
#
# Usage: bench/proxy_bench.sh [BUILD_DIR]   (default ../build-bench from here; or X420_BIN)
#        X420_BENCH_RUNS=3        runs of each measurement, interleaved (medians reported)
#        X420_BENCH_SECONDS=5     length of one fixed-rate latency run
#        X420_BENCH_SAT_SECONDS=10  length of one saturation run (wrk -t1 -c32)
#        X420_BENCH_RATE=1000     the fixed rate, requests/s (approximate, see bench/README.md)
#        X420_BENCH_STREAMS=1000  concurrent streams held open for the memory figure
#        X420_BENCH_TTFB_N=200    streamed requests per path for time-to-first-byte (curl)
#        X420_BENCH_PERF=FILE     also profile x420 (perf record, DWARF call graphs) in one more
#                                 saturation run, of the chat body or, with
#        X420_BENCH_PERF_KIND=sse of the streamed one
# Loopback only; every process it starts is stopped on exit, and its temporary folder removed.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$script_dir/../build-bench}
x420=${X420_BIN:-$build/x420}
mock_js=$script_dir/../tests/mock_upstream/server.js
lua=$script_dir/proxy_bench.lua
runs=${X420_BENCH_RUNS:-3}
lat_secs=${X420_BENCH_SECONDS:-5}
sat_secs=${X420_BENCH_SAT_SECONDS:-10}
rate=${X420_BENCH_RATE:-1000}
streams=${X420_BENCH_STREAMS:-1000}
ttfb_n=${X420_BENCH_TTFB_N:-200}
perf_out=${X420_BENCH_PERF:-}
perf_kind=${X420_BENCH_PERF_KIND:-json}

die() { echo "proxy_bench.sh: $*" >&2; exit 2; }

[[ -x $x420 ]] || die "no x420 at $x420 (ninja -C build-bench x420, or pass the build dir)"
[[ -f $mock_js ]] || die "no mock upstream at $mock_js"
for tool in nginx:nginx wrk:wrk node:nodejs curl:curl jq:jq ss:iproute2; do
  command -v "${tool%%:*}" >/dev/null || die "${tool%%:*} is not installed (apt-get install ${tool#*:})"
done
[[ -z $perf_out ]] || command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"
for n in "$runs" "$lat_secs" "$sat_secs" "$rate" "$streams" "$ttfb_n"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "the X420_BENCH_* counts must be positive integers"
done
((sat_secs >= 4)) || die "X420_BENCH_SAT_SECONDS must be at least 4"
((ttfb_n >= 10)) || die "X420_BENCH_TTFB_N must be at least 10"
[[ $perf_kind == json || $perf_kind == sse ]] || die "X420_BENCH_PERF_KIND is json or sse"
x420=$(cd "$(dirname "$x420")" && pwd)/$(basename "$x420")

# Each held stream is two sockets in x420 (client, upstream) and in nginx; wrk holds one each.
want_fds=$((streams * 2 + 1024))
if (($(ulimit -n) < want_fds)); then
  ulimit -n "$(($(ulimit -Hn) < want_fds ? $(ulimit -Hn) : want_fds))"
  (($(ulimit -n) >= want_fds)) || die "open files are limited to $(ulimit -n); $streams streams need $want_fds (lower X420_BENCH_STREAMS)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/x420-proxy-bench-XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A throwaway HOME: the user's store and master key are never touched. Loopback only, so a proxy
# from the environment must not intercept curl.
export HOME=$tmp/home
mkdir "$HOME"
unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME X420_MASTER_KEY X420_SERVER X420_TOKEN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

free_port() {
  local p
  for _ in {1..200}; do
    p=$((20000 + RANDOM % 30000))
    [[ -z $(ss -Htln "sport = :$p") ]] && { echo "$p"; return; }
  done
  die "no free port found"
}

# wait_line FILE PATTERN PID: until FILE has a line matching PATTERN (20 s), or PID is gone.
wait_line() {
  for _ in {1..400}; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

wait_port() {  # PORT PID: until PORT is listened on (20 s), or PID is gone
  for _ in {1..400}; do
    [[ -n $(ss -Htln "sport = :$1") ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# CPU time a process has used, in clock ticks (all its threads).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

rss_kb() { awk -v f="$2" '$1 == f ":" { print $2 }' "/proc/$1/status"; }

# --- The request bodies: a 2 KB chat body with an AWS key id and a GitHub token in it, fresh
# fakes each run (made the way tests/e2e/proxy_test.sh makes them), never real credentials. The
# prose has no quote, backslash or dollar, so the replies made from it need no escaping.
rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
aws="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
gh="ghp_$(rand 36)"
system="You are a senior engineer reviewing deployment scripts. Answer briefly and name the failing line."
user="The nightly upload job fails with AccessDenied since Monday. Here is the relevant part of deploy.sh and its environment, copied from the CI log: export AWS_ACCESS_KEY_ID=$aws export AWS_DEFAULT_REGION=eu-west-1 aws s3 cp dist/ s3://example-artifacts/nightly/ --recursive --only-show-errors and for the release notes: GITHUB_TOKEN=$gh gh release create nightly --notes-file NOTES.md --prerelease."
filler=(" The job ran fine last week and nothing in the bucket policy changed."
  " The same script works from a laptop with the same account and the same region."
  " The runner image was upgraded on Sunday, which also moved the CLI to a new major version."
  " Retrying the step does not help, and the error names the bucket but not the action.")
body() {  # MODEL STREAM
  printf '{"model":"%s","stream":%s,"max_tokens":512,"messages":[{"role":"system","content":"%s"},{"role":"user","content":"%s"}]}' \
    "$1" "$2" "$system" "$user"
}
i=0
while (($(body bench-json false | wc -c) < 2000)); do user+=${filler[i++ % ${#filler[@]}]}; done
body bench-json false >"$tmp/chat.json"
body bench-sse true >"$tmp/stream.json"
body bench-hold true >"$tmp/hold.json"
body bench-hold false >"$tmp/capture.json"
body_bytes=$(wc -c <"$tmp/chat.json")

# --- The mock upstream (tests/mock_upstream), for two things only: it shows what a redacted
# request looks like upstream, so the fast upstream's canned replies echo real placeholders, and
# it holds streams open. The timed load goes to nginx serving canned files, never to node.
node "$mock_js" --port 0 --record "$tmp/mock.jsonl" --max-seconds 3600 >"$tmp/mock.out" 2>"$tmp/mock.err" &
pids+=($!)
wait_line "$tmp/mock.out" '^listening ' "$!" || die "the mock upstream did not start: $(cat "$tmp/mock.err")"
mock=$(awk '/^listening /{ print $2 }' "$tmp/mock.out")

fast=$(free_port)
"$x420" init -q >/dev/null 2>"$tmp/setup.err" || die "x420 init failed: $(cat "$tmp/setup.err")"
upstream_secret="sk-bench-$(rand 32)"
add_upstream() {  # NAME BASE_URL MODEL
  BENCH_UPSTREAM_KEY=$upstream_secret "$x420" upstreams add "$1" --kind openai --base-url "$2" \
    --api-key-env BENCH_UPSTREAM_KEY --models "$3" >/dev/null 2>"$tmp/setup.err" ||
    die "x420 upstreams add $1 failed: $(cat "$tmp/setup.err")"
}
add_upstream fastjson "http://127.0.0.1:$fast/j/v1" bench-json
add_upstream fastsse "http://127.0.0.1:$fast/s/v1" bench-sse
add_upstream mock "http://127.0.0.1:$mock/v1" bench-hold
key=$("$x420" keys create --name bench -q 2>"$tmp/setup.err") || die "x420 keys create failed: $(cat "$tmp/setup.err")"

"$x420" serve --listen 127.0.0.1:0 --redact pseudonymize >"$tmp/x420.out" 2>"$tmp/x420.log" &
x420_pid=$!
pids+=($x420_pid)
wait_line "$tmp/x420.out" '^listening ' "$x420_pid" || die "x420 serve did not start: $(tail -5 "$tmp/x420.log")"
x420_port=$(awk '/^listening /{ split($2, a, ":"); print a[2] }' "$tmp/x420.out")
proxy=http://127.0.0.1:$x420_port

post() {  # URL BODY_FILE [CURL_ARGS...]: the reply on stdout
  local url=$1 file=$2
  shift 2
  curl -s --max-time 20 -H 'Content-Type: application/json' -H 'Expect:' \
    -H "Authorization: Bearer $key" --data-binary @"$file" "$@" "$url"
}

# What the upstream receives from x420 (placeholders in place of the fakes; a streamed request
# with "stream_options" added), and what the mock answers to exactly that: the canned replies.
post "$proxy/v1/chat/completions" "$tmp/capture.json" -o /dev/null
post "$proxy/v1/chat/completions" "$tmp/hold.json" -o /dev/null
jq -r 'select(.event == null) | .body' <(sed -n 1p "$tmp/mock.jsonl") >"$tmp/up_chat.json"
jq -r 'select(.event == null) | .body' <(sed -n 2p "$tmp/mock.jsonl") >"$tmp/up_stream.json"
grep -q X420_REDACTED_ "$tmp/up_chat.json" || die "x420 forwarded no placeholder; is redaction on?"
if grep -qF -e "$aws" -e "$gh" "$tmp/up_chat.json" "$tmp/up_stream.json"; then
  die "a fake secret reached the upstream unredacted"
fi
mkdir "$tmp/fast"
post "http://127.0.0.1:$mock/v1/chat/completions" "$tmp/up_chat.json" >"$tmp/fast/chat.json"
post "http://127.0.0.1:$mock/v1/chat/completions" "$tmp/up_stream.json" -H 'x-mock-chunk-size: 16' >"$tmp/fast/chat.sse"
sse_events=$(grep -c '^data: ' "$tmp/fast/chat.sse")

# --- nginx: the fast upstream, and the plain proxy_pass in front of it. One worker each, as
# x420 serves on one I/O thread. A POST to a static file is a 405; error_page turns it into a
# GET of the same file, so the canned reply comes from the open-file cache with no script.
nginx_conf() {  # DIR SERVER_BLOCK
  local user=
  ((EUID == 0)) && user="user root;"  # the workers must read files in this 0700 folder
  mkdir -p "$1/tmp"
  cat >"$1/nginx.conf" <<EOF
$user
worker_processes 1;
worker_rlimit_nofile $want_fds;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections $want_fds; }
http {
  access_log off;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
  keepalive_requests 100000000;
  open_file_cache max=16 inactive=3600s;
  open_file_cache_valid 3600s;
  $2
}
EOF
}
start_nginx() {  # DIR PORT
  nginx -p "$1" -c "$1/nginx.conf" -e "$1/error.log" &
  pids+=($!)
  wait_port "$2" "$!" || die "nginx did not start: $(cat "$1/error.log")"
}
nginx_conf "$tmp/fast" "server {
    listen 127.0.0.1:$fast backlog=4096;
    location = /j/v1/chat/completions { alias $tmp/fast/chat.json; default_type application/json; error_page 405 =200 \$uri; }
    location = /s/v1/chat/completions { alias $tmp/fast/chat.sse; default_type text/event-stream; error_page 405 =200 \$uri; }
  }"
start_nginx "$tmp/fast" "$fast"
fast_worker=$(pgrep -P "${pids[-1]}" | head -1)
nginx_port=$(free_port)
nginx_conf "$tmp/nginx" "server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    location / { proxy_pass http://127.0.0.1:$fast; }
    location /hold/ { proxy_pass http://127.0.0.1:$mock/; }
  }"
start_nginx "$tmp/nginx" "$nginx_port"
nginx_master=${pids[-1]}
nginx_worker=$(pgrep -P "$nginx_master" | head -1)

declare -A url
url[direct.json]=http://127.0.0.1:$fast/j/v1/chat/completions
url[direct.sse]=http://127.0.0.1:$fast/s/v1/chat/completions
url[nginx.json]=http://127.0.0.1:$nginx_port/j/v1/chat/completions
url[nginx.sse]=http://127.0.0.1:$nginx_port/s/v1/chat/completions
url[x420.json]=$proxy/v1/chat/completions
url[x420.sse]=$proxy/v1/chat/completions
declare -A body_of=([json]=$tmp/chat.json [sse]=$tmp/stream.json)
paths=(direct nginx x420)

# Every path answers 200, and through x420 the reply has the fakes back (placeholders restored,
# streamed ones across events too) and says it redacted two.
for p in "${paths[@]}"; do
  for kind in json sse; do
    code=$(post "${url[$p.$kind]}" "${body_of[$kind]}" -o "$tmp/check.$p.$kind" -D "$tmp/check.$p.$kind.h" -w '%{http_code}')
    [[ $code == 200 ]] || die "$p $kind: HTTP $code: $(head -c 300 "$tmp/check.$p.$kind")"
  done
done
grep -qi '^x420-redactions: 2' "$tmp/check.x420.json.h" || die "x420 did not report 2 redactions: $(cat "$tmp/check.x420.json.h")"
restored=$(jq -r '.choices[0].message.content' "$tmp/check.x420.json")
[[ $restored == *"$aws"* && $restored == *"$gh"* ]] || die "x420's reply does not have the fakes restored"
restored=$(grep '^data: {' "$tmp/check.x420.sse" | sed 's/^data: //' | jq -rj '.choices[0].delta.content // empty')
[[ $restored == *"$aws"* && $restored == *"$gh"* ]] || die "x420's streamed reply does not have the fakes restored"

# run_wrk OUT URL BODY CONNECTIONS SECONDS [DELAY_MS]: one wrk run; its result line into OUT.
run_wrk() {
  local out=$1 target=$2 file=$3 conns=$4 secs=$5 delay=${6:-0} line
  BENCH_BODY=$file BENCH_KEY=$key BENCH_DELAY_MS=$delay timeout $((secs + 60)) \
    wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s -s "$lua" "$target" >"$tmp/wrk.out" 2>&1 || true
  line=$(grep '^wrk_result ' "$tmp/wrk.out") || die "wrk failed against $target: $(cat "$tmp/wrk.out")"
  echo "$line" >>"$out"
}

# wrk2's fixed rate is not packaged in Debian: $rate_conns connections each pause 10 ms after a
# reply, about $rate requests/s at sub-millisecond latency; the rate reached is printed.
rate_delay=10
rate_conns=$(((rate * (rate_delay + 1) + 500) / 1000))
((rate_conns >= 1)) || rate_conns=1

echo "proxy_bench: warming up (2 s per path and kind)" >&2
for p in "${paths[@]}"; do
  for kind in json sse; do run_wrk "$tmp/warmup" "${url[$p.$kind]}" "${body_of[$kind]}" 8 2; done
done
rss_idle_kb=$(rss_kb "$x420_pid" VmRSS)

# Whose CPU time a saturation run is charged to: the upstream's worker for direct, the proxy's.
declare -A cpu_pid=([direct]=$fast_worker [nginx]=$nginx_worker [x420]=$x420_pid)
clk_tck=$(getconf CLK_TCK)

est=$((runs * 3 * 2 * (lat_secs + sat_secs) + 60))
echo "proxy_bench: measuring, about $((est / 60)) min $((est % 60)) s" >&2
for ((run = 1; run <= runs; run++)); do
  for kind in json sse; do
    for p in "${paths[@]}"; do
      run_wrk "$tmp/lat.$kind.$p" "${url[$p.$kind]}" "${body_of[$kind]}" "$rate_conns" "$lat_secs" "$rate_delay"
    done
  done
  for kind in json sse; do
    for p in "${paths[@]}"; do
      t0=$(cpu_ticks "${cpu_pid[$p]}")
      run_wrk "$tmp/sat.$kind.$p" "${url[$p.$kind]}" "${body_of[$kind]}" 32 "$sat_secs"
      echo "$(($(cpu_ticks "${cpu_pid[$p]}") - t0))" >>"$tmp/satcpu.$kind.$p"
    done
  done
done
rss_load_kb=$(rss_kb "$x420_pid" VmRSS)

# Time to first byte of a streamed reply, by curl on one keep-alive connection per block; the
# first request of a block (which also connects) is left out. Blocks interleave the paths.
block=50
for ((done_n = 0; done_n < ttfb_n; done_n += block - 1)); do
  for p in "${paths[@]}"; do
    targets=()
    for ((i = 0; i < block; i++)); do targets+=("${url[$p.sse]}"); done
    curl -s --max-time 60 -H 'Content-Type: application/json' -H 'Expect:' -H "Authorization: Bearer $key" \
      --data-binary @"$tmp/stream.json" -w '%{stderr}%{time_starttransfer} %{http_code}\n' "${targets[@]}" \
      2>"$tmp/ttfb.block" >/dev/null || true
    awk 'NR > 1 && $2 == 200 { printf "%d\n", $1 * 1e6 + 0.5 }' "$tmp/ttfb.block" >>"$tmp/ttfb.$p"
    awk 'NR > 1 && $2 != 200' "$tmp/ttfb.block" >>"$tmp/ttfb.errors.$p"
  done
done

# The profile comes after the timed runs, so perf's cost is in none of the figures. DWARF call
# graphs, because a Release build keeps no frame pointers for -g to follow.
if [[ -n $perf_out ]]; then
  echo "proxy_bench: profiling x420 in one more saturation run ($perf_kind, c32, $sat_secs s)" >&2
  BENCH_BODY=${body_of[$perf_kind]} BENCH_KEY=$key timeout $((sat_secs + 60)) \
    wrk -t1 -c32 -d"${sat_secs}s" --timeout 10s -s "$lua" "${url[x420.$perf_kind]}" >"$tmp/perf.wrk" 2>&1 &
  pids+=($!)
  sleep 1
  perf record -F 999 --call-graph dwarf,16384 -o "$perf_out" -p "$x420_pid" -- sleep $((sat_secs - 2)) \
    >/dev/null 2>"$tmp/perf.err" || echo "proxy_bench: perf record failed: $(cat "$tmp/perf.err")" >&2
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
fi

# --- Open streams held: the mock sends the headers and the first 300 bytes of a streamed reply,
# then nothing. $streams wrk connections each start one; once x420 counts them all in flight,
# its resident memory is read. The same through nginx's proxy_pass for comparison.
hold_streams() {  # URL PROBE: PROBE prints how many streams are open; sets held and held_ok
  local target=$1 probe=$2 wrk_pid
  BENCH_BODY=$tmp/hold.json BENCH_KEY=$key BENCH_HEADER='x-mock-stall-after-bytes: 300' \
    wrk -t1 -c"$streams" -d120s --timeout 120s -s "$lua" "$target" >"$tmp/hold.wrk" 2>&1 &
  wrk_pid=$!
  pids+=($wrk_pid)
  held=0
  held_ok=0
  for _ in {1..300}; do  # up to 60 s
    held=$($probe); held=${held:-0}
    ((held >= streams)) && { held_ok=1; break; }
    kill -0 "$wrk_pid" 2>/dev/null || break
    sleep 0.2
  done
  sleep 1  # let the last replies' first bytes arrive
  held=$($probe); held=${held:-0}
}
stop_holding() {
  kill -TERM "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
}
x420_in_flight() { curl -s --max-time 5 "$proxy/metrics" | awk '$1 == "x420_in_flight_requests" { v = $2 } END { print v + 0 }'; }
nginx_conns() { ss -Htn state established "( sport = :$nginx_port )" | wc -l; }

hold_streams "$proxy/v1/chat/completions" x420_in_flight
x420_held=$held
x420_held_ok=$held_ok
rss_streams_kb=$(rss_kb "$x420_pid" VmRSS)
hwm_streams_kb=$(rss_kb "$x420_pid" VmHWM)
x420_fds=$(ls "/proc/$x420_pid/fd" | wc -l)
stop_holding
sleep 2
x420_in_flight_after=$(x420_in_flight)
rss_after_kb=$(rss_kb "$x420_pid" VmRSS)

nginx_idle_kb=$(rss_kb "$nginx_worker" VmRSS)
hold_streams "http://127.0.0.1:$nginx_port/hold/v1/chat/completions" nginx_conns
nginx_held=$held
nginx_rss_streams_kb=$(rss_kb "$nginx_worker" VmRSS)
stop_holding

# --- Figures. A wrk result line's field; medians over the runs.
set +o pipefail  # from here on output only: `… | head` may cut a producer short
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f\n", m }'; }
rps_of() { awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } printf "%.0f\n", f["requests"] / (f["duration_us"] / 1e6) }' "$1"; }
errors_of() { awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } s += f["connect"] + f["read"] + f["write"] + f["status"] + f["timeout"] } END { print s + 0 }' "$1"; }
quantile() { sort -n "$1" | awk -v q="$2" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int(q * NR + 0.999999); if (i < 1) i = 1; print v[i] }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.0f\n", a - b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f\n", k / 1024 }'; }

declare -A fig
for kind in json sse; do
  for p in "${paths[@]}"; do
    fig[lat.$kind.$p.rate]=$(rps_of "$tmp/lat.$kind.$p" | median)
    fig[lat.$kind.$p.p50]=$(field "$tmp/lat.$kind.$p" p50_us | median)
    fig[lat.$kind.$p.p99]=$(field "$tmp/lat.$kind.$p" p99_us | median)
    fig[lat.$kind.$p.err]=$(errors_of "$tmp/lat.$kind.$p")
    fig[sat.$kind.$p.rps]=$(rps_of "$tmp/sat.$kind.$p" | median)
    fig[sat.$kind.$p.p50]=$(field "$tmp/sat.$kind.$p" p50_us | median)
    fig[sat.$kind.$p.err]=$(errors_of "$tmp/sat.$kind.$p")
    # CPU µs per request: each run's ticks over its requests, the median of the runs.
    fig[sat.$kind.$p.cpu]=$(paste -d' ' "$tmp/satcpu.$kind.$p" <(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^requests=/) print substr($i, 10) }' "$tmp/sat.$kind.$p") |
      awk -v hz="$clk_tck" '{ printf "%.0f\n", $1 * 1e6 / hz / $2 }' | median)
    fig[sat.$kind.$p.cores]=$(awk -v hz="$clk_tck" -v s="$sat_secs" '{ printf "%.0f\n", 100 * $1 / hz / s }' "$tmp/satcpu.$kind.$p" | median)
  done
done
for p in "${paths[@]}"; do
  fig[ttfb.$p.n]=$(wc -l <"$tmp/ttfb.$p")
  fig[ttfb.$p.p50]=$(quantile "$tmp/ttfb.$p" 0.5)
  fig[ttfb.$p.p99]=$(quantile "$tmp/ttfb.$p" 0.99)
  fig[ttfb.$p.err]=$(cat "$tmp/ttfb.errors.$p" 2>/dev/null | wc -l)
done

echo "x420 proxy benchmark: direct to a fast upstream, through nginx proxy_pass, through x420 serve"
echo "machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "x420:    $x420 ($("$x420" --version)), --redact pseudonymize, access log to a file"
echo "nginx:   $(nginx -v 2>&1 | sed 's/^nginx version: //'), 1 worker, plain proxy_pass (HTTP/1.0, a new upstream connection per request)"
echo "upstream: nginx, 1 worker, canned replies made by tests/mock_upstream: chat $(wc -c <"$tmp/fast/chat.json") B, stream $(wc -c <"$tmp/fast/chat.sse") B in $sse_events events, both echoing the placeholders"
echo "client:  wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), -t1; body $body_bytes B (2 fakes); $runs run(s) of each, interleaved; medians"
echo "fixed rate: $rate_conns connections pausing $rate_delay ms after each reply ($lat_secs s runs); saturation: -c32 ($sat_secs s runs)"
echo
printf '%-34s %10s %10s %10s %11s %11s\n' "figure" "direct" "nginx" "x420" "x420-direct" "nginx-direct"
row() {  # LABEL KEY_PREFIX KEY_SUFFIX
  local d=${fig[$2.direct.$3]} n=${fig[$2.nginx.$3]} x=${fig[$2.x420.$3]}
  printf '%-34s %10s %10s %10s %11s %11s\n' "$1" "$d" "$n" "$x" "$(minus "$x" "$d")" "$(minus "$n" "$d")"
}
row "chat, fixed rate: req/s reached" lat.json rate
row "chat, fixed rate: p50 µs" lat.json p50
row "chat, fixed rate: p99 µs" lat.json p99
row "stream, fixed rate: req/s reached" lat.sse rate
row "stream, fixed rate: p50 µs (whole)" lat.sse p50
row "stream, fixed rate: p99 µs (whole)" lat.sse p99
row "stream TTFB p50 µs (curl)" ttfb p50
row "stream TTFB p99 µs (curl)" ttfb p99
row "chat, saturation: req/s" sat.json rps
row "chat, saturation: p50 µs" sat.json p50
row "stream, saturation: req/s" sat.sse rps
row "stream, saturation: p50 µs" sat.sse p50
echo
echo "CPU in the saturation runs, of the upstream's nginx worker (direct) and of the proxy (nginx's worker; x420, all threads):"
printf '%-34s %10s %10s %10s\n' "chat: CPU µs per request" "${fig[sat.json.direct.cpu]}" "${fig[sat.json.nginx.cpu]}" "${fig[sat.json.x420.cpu]}"
printf '%-34s %10s %10s %10s\n' "chat: % of one core" "${fig[sat.json.direct.cores]}" "${fig[sat.json.nginx.cores]}" "${fig[sat.json.x420.cores]}"
printf '%-34s %10s %10s %10s\n' "stream: CPU µs per request" "${fig[sat.sse.direct.cpu]}" "${fig[sat.sse.nginx.cpu]}" "${fig[sat.sse.x420.cpu]}"
printf '%-34s %10s %10s %10s\n' "stream: % of one core" "${fig[sat.sse.direct.cores]}" "${fig[sat.sse.nginx.cores]}" "${fig[sat.sse.x420.cores]}"
echo
ratio_json=$(awk -v a="${fig[sat.json.x420.rps]}" -v b="${fig[sat.json.nginx.rps]}" 'BEGIN { printf "%.2f", a / b }')
ratio_sse=$(awk -v a="${fig[sat.sse.x420.rps]}" -v b="${fig[sat.sse.nginx.rps]}" 'BEGIN { printf "%.2f", a / b }')
echo "saturation, x420 / nginx: chat ${ratio_json}, stream ${ratio_sse}"
echo "errors (wrk: connect+read+write+non-2xx+timeout; curl: non-200):"
for p in "${paths[@]}"; do
  echo "  $p: fixed rate ${fig[lat.json.$p.err]} chat, ${fig[lat.sse.$p.err]} stream; saturation ${fig[sat.json.$p.err]} chat, ${fig[sat.sse.$p.err]} stream; ttfb ${fig[ttfb.$p.err]} of $((${fig[ttfb.$p.n]} + ${fig[ttfb.$p.err]}))"
done
echo "x420 access log: $(grep -c ' POST /v1/chat/completions ' "$tmp/x420.log") requests by status: $(awk '$0 ~ / POST \/v1\/chat\/completions / { for (i = 1; i <= NF; i++) if ($i == "/v1/chat/completions") { n[$(i + 1)]++; break } } END { for (s in n) printf "%s x%d ", s, n[s] }' "$tmp/x420.log")"
warnings=$(grep -ciE '\[(warning|error|critical)\]' "$tmp/x420.log" || true)
echo "x420 warnings and errors logged: $warnings$( ((warnings)) && echo " (first: $(grep -iE '\[(warning|error|critical)\]' "$tmp/x420.log" | head -1))")"
echo
echo "memory (VmRSS, MiB):"
echo "  x420: idle after setup $(mib "$rss_idle_kb"), after the load runs $(mib "$rss_load_kb"), with $x420_held streams open $(mib "$rss_streams_kb") (peak $(mib "$hwm_streams_kb"), $x420_fds fds), 2 s after wrk closed them $(mib "$rss_after_kb") with $x420_in_flight_after still in flight"
echo "  nginx worker: idle $(mib "$nginx_idle_kb"), with $nginx_held client connections open $(mib "$nginx_rss_streams_kb")"
((x420_held_ok)) || echo "  x420 never had $streams streams in flight (at most $x420_held): $(tail -3 "$tmp/hold.wrk" 2>/dev/null)"

if [[ -n $perf_out && -s $perf_out ]]; then
  report() { perf report -i "$perf_out" --stdio -g none --percent-limit 0.8 "$@" 2>/dev/null | sed '/^#/d; /^$/d; s/ *$//'; }
  echo
  echo "perf: x420 in one more $perf_kind saturation run, $(rps_of <(grep '^wrk_result ' "$tmp/perf.wrk")) req/s under perf ($perf_out)"
  echo "samples by thread (tid $x420_pid is the I/O thread):"
  perf script -i "$perf_out" -F tid 2>/dev/null | sort | uniq -c | sort -rn | head -5 |
    awk '{ n[NR] = $1; t[NR] = $2; s += $1 } END { for (i = 1; i <= NR; i++) printf "  tid %s %.1f%%\n", t[i], 100 * n[i] / s }'
  echo "self time, top symbols (% of all samples):"
  report --no-children --sort dso,sym | head -20 | cut -c1-150
  echo "inclusive time of x420's steps and of the calls they make (% of all samples):"
  report --children --sort sym |
    grep -E '\] (x420::(proxy|detect|store)|_ZN4x4205proxy12_GLOBAL__N_116handle_inference|sqlite3_prepare_v2|sqlite3_step|spdlog::logger::log_it_|__libc_connect|__libc_sendmsg|__libc_recvmsg|getaddrinfo|nlohmann::json_abi_v[0-9_]*::basic_json<.*::parse<)' |
    sed 's/_ZN4x4205proxy12_GLOBAL__N_116handle_inference.*/x420::proxy::handle_inference (its coroutine frame)/;
         s/nlohmann::json_abi_v[0-9_]*::basic_json<.*::parse<.*/nlohmann::json::parse/' |
    grep -v '::serve$' | head -25 | cut -c1-150
fi

echo
echo "added_p50_us=$(minus "${fig[lat.json.x420.p50]}" "${fig[lat.json.direct.p50]}") target=100"
echo "added_p99_us=$(minus "${fig[lat.json.x420.p99]}" "${fig[lat.json.direct.p99]}") target=1000"
echo "throughput_vs_nginx=$ratio_json target=0.70"
echo "rss_1000_streams_mb=$(mib "$rss_streams_kb") target=150"
echo "ttfb_added_us=$(minus "${fig[ttfb.x420.p50]}" "${fig[ttfb.direct.p50]}")"
