#!/usr/bin/env bash
# Issue 10: x420 serve at its file-descriptor limit. Idle client connections fill every
# descriptor; accept then closes the connections idle longest instead of spinning on EMFILE, so
# /healthz and a real request still answer and the process stays off the CPU. Idle connections
# also time out by themselves.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { fail "node is needed (apt-get install nodejs)"; finish; }
command -v prlimit >/dev/null || { fail "prlimit is needed (util-linux)"; finish; }

start_mock_upstream || { finish; exit 1; }
expect_exit 0 "init" x420 init -q
expect_exit 0 "upstream" env KEY=sk-up "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
expect_exit 0 "key" x420 keys create --name fd -q
KEY=$OUT
# Under UBSan (scripts/test) the vptr check tests memory through a pipe(2); with no descriptor
# left that fails and it reports a valid object as "invalid vptr". Those reports are counted
# out below; any other report still fails the test.
export UBSAN_OPTIONS=halt_on_error=0:print_stacktrace=0
X420_CLIENT_IDLE_SECONDS=4 start_listener "$WORK/serve.out" "$WORK/serve.log" \
  prlimit --nofile=64:64 "$X420_BIN" serve --listen 127.0.0.1:0 || { finish; exit 1; }
SERVE_PID=$LAST_PID
URL="http://127.0.0.1:$PORT"

# 150 idle connections against a limit of 64 descriptors, held open for 10 s at most.
cat >"$WORK/hold.js" <<'JS'
const net = require('net');
const [port, count] = process.argv.slice(2).map(Number);
let open = 0, closed = 0;
for (let i = 0; i < count; i++) {
  const s = net.connect(port, '127.0.0.1', () => { open++; });
  s.on('error', () => {});
  s.on('close', () => { closed++; });
}
setTimeout(() => { console.log(JSON.stringify({ open, closed })); process.exit(0); }, 6000);
JS
node "$WORK/hold.js" "$PORT" 150 >"$WORK/hold.out" &
HOLD=$!
BACKGROUND_PIDS+=("$HOLD")
sleep 1.5
ticks() { awk '{print $14 + $15}' "/proc/$SERVE_PID/stat"; }
t0=$(ticks)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$URL/healthz" || true)
expect_eq "$code" 200 "/healthz answers with every descriptor taken"
# While the flood still arrives a request can lose its race for a descriptor; a client retrying
# (as the SDKs do) gets through.
for attempt in 1 2 3 4 5; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $KEY" \
    "$URL/v1/chat/completions" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"still here"}]}' || true)
  [[ $code == 200 ]] && break
  sleep 0.3
done
expect_eq "$code" 200 "an inference request is served at the limit (its upstream connection too), attempt $attempt"
sleep 1
used=$(( $(ticks) - t0 ))
hz=$(getconf CLK_TCK)
echo "serve used $used ticks of $hz per second over ~1.5 s at the limit"
if [[ $used -lt $hz ]]; then pass; else fail "serve burned $used ticks (of $hz/s) at the descriptor limit"; fi
expect_contains "$(cat "$WORK/serve.log")" "idle connection" "the log says what happened"
wait "$HOLD" || true
# Idle connections end by themselves after the idle timeout.
closed=$(jq .closed "$WORK/hold.out")
if [[ $closed -ge 100 ]]; then pass; else fail "only $closed of 150 idle connections were closed"; fi
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
other_ub=$(grep "runtime error" "$WORK/serve.log" | grep -cv "does not point to an object of type" || true)
expect_eq "$other_ub" 0 "no undefined behaviour but UBSan's own at the descriptor limit"
finish
