# Shared helpers for the end-to-end tests: each test runs the real x420 binary in a temporary
# HOME of its own, and asserts on exit codes, stdout, stderr and the bytes of the store.
set -euo pipefail

X420_BIN=${X420_BIN:?set X420_BIN to the x420 binary}
X420_SOURCE_DIR=${X420_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/x420-e2e-$TEST_NAME-XXXXXX")
export HOME=$WORK/home
unset XDG_DATA_HOME XDG_CONFIG_HOME X420_MASTER_KEY X420_SERVER X420_TOKEN
# Tests talk to loopback only; a proxy from the environment must not intercept them.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
export NO_COLOR=1
mkdir -p "$HOME"
DB=$HOME/.local/share/x420/x420.db
MASTER_KEY=$HOME/.config/x420/master.key
FAILURES=0
CHECKS=0
BACKGROUND_PIDS=()

cleanup() {
  for pid in "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${X420_KEEP_WORK:-} && $FAILURES -gt 0 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

x420() { "$X420_BIN" "$@"; }

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

pass() { CHECKS=$((CHECKS + 1)); }

# run CMD...: runs it capturing stdout, stderr and the exit code into $OUT, $ERR and $RC.
run() {
  set +e
  OUT=$("$@" 2>"$WORK/stderr")
  RC=$?
  set -e
  ERR=$(cat "$WORK/stderr")
}

# expect_exit CODE DESCRIPTION CMD...: runs CMD and checks its exit code.
expect_exit() {
  local want=$1 what=$2
  shift 2
  run "$@"
  if [[ $RC -eq $want ]]; then pass; else fail "$what: exit $RC, wanted $want (stderr: $ERR)"; fi
}

expect_contains() {  # HAYSTACK NEEDLE DESCRIPTION
  if [[ $1 == *"$2"* ]]; then pass; else fail "$3: '$2' not found in: $1"; fi
}

expect_not_contains() {  # HAYSTACK NEEDLE DESCRIPTION
  if [[ $1 != *"$2"* ]]; then pass; else fail "$3: '$2' should not appear"; fi
}

expect_eq() {  # GOT WANT DESCRIPTION
  if [[ $1 == "$2" ]]; then pass; else fail "$3: got '$1', wanted '$2'"; fi
}

# expect_absent_from_files NEEDLE DESCRIPTION FILE...: the bytes of no file contain NEEDLE.
expect_absent_from_files() {
  local needle=$1 what=$2
  shift 2
  local f
  for f in "$@"; do
    [[ -e $f ]] || continue
    if grep -aqF -- "$needle" "$f"; then fail "$what: found in $(basename "$f")"; else pass; fi
  done
}

# start_background OUTFILE ERRFILE CMD...: starts CMD, remembers it for cleanup, waits (up to 20 s)
# for its first stdout line "listening HOST:PORT" and sets $PORT.
start_listener() {
  local out=$1 err=$2
  shift 2
  # Emptied here, not by the child's redirection: a slow fork would otherwise let the loop below
  # read the previous listener's "listening" line and its port.
  : >"$out"
  "$@" >"$out" 2>"$err" &
  BACKGROUND_PIDS+=($!)
  LAST_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    if grep -q '^listening ' "$out" 2>/dev/null; then
      PORT=$(head -1 "$out" | awk '{print $2}' | sed 's/.*://')
      return 0
    fi
    kill -0 "$LAST_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: $* did not start listening: $(cat "$err")" >&2
  return 1
}

# start_mock_upstream: the mock upstream (tests/mock_upstream) recording to $WORK/upstream.jsonl;
# sets $MOCK to its port.
start_mock_upstream() {
  command -v node >/dev/null || { fail "node is needed for the mock upstream (apt-get install nodejs)"; return 1; }
  start_listener "$WORK/mock.out" "$WORK/mock.err" node "$X420_SOURCE_DIR/tests/mock_upstream/server.js" \
    --port 0 --record "$WORK/upstream.jsonl" --max-seconds 180 || return 1
  MOCK=$PORT
}

# start_serve [SERVE OPTIONS...]: x420 serve on a free loopback port, log in $WORK/serve.log;
# sets $URL and $SERVE_PID.
start_serve() {
  start_listener "$WORK/serve.out" "$WORK/serve.log" "$X420_BIN" serve --listen 127.0.0.1:0 "$@" || return 1
  SERVE_PID=$LAST_PID
  URL="http://127.0.0.1:$PORT"
}

json_field() {  # JSON FIELD: a top-level string/number/bool field, via jq
  jq -r ".$2" <<<"$1"
}

finish() {
  echo "$TEST_NAME: $CHECKS checks passed, $FAILURES failed"
  [[ $FAILURES -eq 0 ]]
}
