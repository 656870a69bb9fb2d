#!/usr/bin/env bash
# What x420 serve adds to the gap between a stream's events, and how much memory a flood of
# distinct secrets leaves behind (issue 10). A benchmark, never part of pass/fail.
#
# 1. Inter-event delay: the mock upstream streams events 10 ms apart, each stamped with the
#    moment it is written (x-mock-timestamps); a client on this machine records each event's
#    arrival. The same stream goes, interleaved, directly to the mock (the baseline), through
#    Debian's nginx (proxy_pass, proxy_buffering off: nginx's streaming setting) and through x420
#    restoring placeholders; the figures are arrival minus send, p50 and p99, and what x420 and
#    nginx add to the direct path.
# 2. Placeholder flood: requests with distinct fake secrets until the count given has been
#    redacted; x420's RSS before and after, against the placeholder map's budget.
#
# Usage: bench/stream_gap_bench.sh [X420_BIN]    (default: build-bench/x420, or $X420_BIN)
#        X420_GAP_STREAMS=20      streams per path
#        X420_FLOOD_SECRETS=360000  distinct secrets in the flood (100 a request)
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
x420=${1:-${X420_BIN:-$here/../build-bench/x420}}
streams=${X420_GAP_STREAMS:-20}
secrets=${X420_FLOOD_SECRETS:-360000}
client=$here/../tests/e2e/stream_client.mjs
die() { echo "stream_gap_bench.sh: $*" >&2; exit 2; }
[[ -x $x420 ]] || die "no x420 at $x420"
for tool in nginx node curl jq; do command -v $tool >/dev/null || die "$tool is not installed"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/x420-gap-bench-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
export HOME=$tmp/home
unset XDG_DATA_HOME XDG_CONFIG_HOME X420_MASTER_KEY
mkdir -p "$HOME"
wait_line() {  # FILE: until its first line says "listening …"; prints the port
  for _ in $(seq 200); do grep -q '^listening ' "$1" 2>/dev/null && { head -1 "$1" | awk '{print $2}' | sed 's/.*://'; return; }; sleep 0.05; done
  die "no listening line in $1"
}

node "$here/../tests/mock_upstream/server.js" --port 0 --max-seconds 3600 >"$tmp/mock.out" 2>"$tmp/mock.err" &
pids+=($!)
mock=$(wait_line "$tmp/mock.out")
"$x420" init -q >/dev/null  # its operator token is of no use here
KEY=sk-bench "$x420" upstreams add mock --kind openai --base-url "http://127.0.0.1:$mock/v1" --api-key-env KEY --models 'gpt-*' -q
key=$("$x420" keys create --name bench -q)
"$x420" serve --listen 127.0.0.1:0 -q >"$tmp/serve.out" 2>"$tmp/serve.log" &
serve_pid=$!
pids+=($serve_pid)
proxy=$(wait_line "$tmp/serve.out")

nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/nginx/tmp"
user=; ((EUID == 0)) && user="user root;"
cat >"$tmp/nginx/nginx.conf" <<CONF
$user
worker_processes 1; daemon off; pid $tmp/nginx/nginx.pid; error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $tmp/nginx/tmp/b; proxy_temp_path $tmp/nginx/tmp/p;
  fastcgi_temp_path $tmp/nginx/tmp/f; uwsgi_temp_path $tmp/nginx/tmp/u; scgi_temp_path $tmp/nginx/tmp/s;
  server { listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://127.0.0.1:$mock; proxy_buffering off; proxy_http_version 1.1; } } }
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.05; done

aws="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
printf '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"%s"}]}' \
  "Stream this back slowly: the key $aws is in the middle of a longer text, so the events are many." >"$tmp/body.json"
declare -A url=([direct]=http://127.0.0.1:$mock/v1/chat/completions [nginx]=http://127.0.0.1:$nginx_port/v1/chat/completions
                [x420]=http://127.0.0.1:$proxy/v1/chat/completions)
for ((i = 0; i < streams; i++)); do
  for p in direct nginx x420; do
    node "$client" "${url[$p]}" "$tmp/body.json" "Authorization: Bearer $key" "x-mock-chunk-delay-ms: 10" \
      "x-mock-timestamps: 1" "x-mock-chunk-size: 3" | jq -r '.events[] | select(.latency_ms != null) | .latency_ms' >>"$tmp/gap.$p"
  done
done
q() { sort -g "$1" | awk -v q="$2" '{ v[NR] = $1 } END { i = int(q * NR + 0.999999); if (i < 1) i = 1; printf "%.3f", v[i] }'; }
echo "Inter-event delay, arrival minus send (ms), $streams streams per path, $(wc -l <"$tmp/gap.x420") events through x420:"
printf '%-8s %8s %8s %8s\n' path p50 p99 events
for p in direct nginx x420; do printf '%-8s %8s %8s %8s\n' "$p" "$(q "$tmp/gap.$p" 0.5)" "$(q "$tmp/gap.$p" 0.99)" "$(wc -l <"$tmp/gap.$p")"; done
for p in nginx x420; do
  awk -v a="$(q "$tmp/gap.$p" 0.5)" -v b="$(q "$tmp/gap.direct" 0.5)" -v c="$(q "$tmp/gap.$p" 0.99)" -v d="$(q "$tmp/gap.direct" 0.99)" -v p=$p \
    'BEGIN { printf "%s adds: p50 %.3f ms, p99 %.3f ms\n", p, a - b, c - d }'
done

# 2. A flood of distinct secrets: 100 fake AWS keys a request.
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$serve_pid/status"; }
before=$(rss)
node - "$proxy" "$key" "$secrets" <<'JS'
const http = require('http');
const [port, key, total] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
let n = 0;
const fake = () => { let s = 'AKIA'; let x = n++; for (let i = 0; i < 16; i++) { s += alphabet[(x + i * 7) % 32]; x = Math.floor(x / 2) + i; } return s; };
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let sent = 0, done = 0, redacted = 0;
const seen = new Set();
function one() {
  if (sent >= total) return;
  const secretsHere = [];
  for (let i = 0; i < 100 && sent < total; i++, sent++) { const f = fake(); seen.add(f); secretsHere.push(f); }
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: secretsHere.join(' ') }] });
  const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/v1/chat/completions', agent,
    headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json', 'x-mock-status': '200' } }, (res) => {
    redacted += Number(res.headers['x420-redactions'] || 0);
    res.resume();
    res.on('end', () => {
      done += secretsHere.length;
      if (done >= total) { console.log(`flood: ${seen.size} distinct fakes sent, ${redacted} redactions reported`); process.exit(0); }
      one();
    });
  });
  req.end(body);
}
for (let i = 0; i < 4; i++) one();
JS
after=$(rss)
echo "Placeholder flood: $secrets distinct secrets redacted; x420 RSS ${before} kB before, ${after} kB after (+$(( (after - before) / 1024 )) MiB); budget 100,000 mappings / 32 MiB per tenant"
