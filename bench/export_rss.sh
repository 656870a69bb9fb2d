#!/usr/bin/env bash
# Peak resident memory of `x420 export` as the account grows (issue 5: "peak memory must not
# grow with the account"). Generates an account of stored conversations with gen_account (the
# proxy's own sealing path), exports it at a small and at a large size, locally and through
# `x420 serve` (--server, streamed chunked), and reports peak RSS (GNU time's maximum resident
# set size for a process; VmHWM for the server) against the floor of `x420 history list` on the
# same store, a command that opens the store and prints a page.
#
# Usage: bench/export_rss.sh            X420_BIN=build/x420 GEN_BIN=build/bench/gen_account
#        EXPORT_SMALL_MB=100 EXPORT_LARGE_MB=1024 set the two account sizes (plaintext MB).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
x420=${X420_BIN:-$script_dir/../build/x420}
gen=${GEN_BIN:-$(dirname "$x420")/bench/gen_account}
small=${EXPORT_SMALL_MB:-100}
large=${EXPORT_LARGE_MB:-1024}
for tool in "$x420" "$gen" /usr/bin/time; do
  [[ -x $tool ]] || { echo "export_rss.sh: $tool is missing (build the tree; apt-get install time)" >&2; exit 2; }
done
(( large > small )) || { echo "export_rss.sh: EXPORT_LARGE_MB must be over EXPORT_SMALL_MB" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/x420-export-bench-XXXXXX")
serve_pid=
cleanup() {
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp
unset XDG_DATA_HOME XDG_CONFIG_HOME X420_MASTER_KEY X420_SERVER X420_TOKEN
db=$HOME/.local/share/x420/x420.db
key_file=$HOME/.config/x420/master.key
operator=$("$x420" init -q)

# peak_kb CMD...: runs CMD (stdout discarded) and prints its maximum resident set size in KB.
peak_kb() {
  /usr/bin/time -f '%M' -o "$tmp/time.out" "$@" >/dev/null
  tail -1 "$tmp/time.out"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
file_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.0f", b / 1048576 }'; }

measure() {  # LABEL: one export to a file, timed, with its peak RSS
  local label=$1 start end
  start=$(date +%s.%N)
  local kb
  kb=$(peak_kb "$x420" export -q -o "$tmp/export.json")
  end=$(date +%s.%N)
  "$x420" export check "$tmp/export.json" >/dev/null
  local size
  size=$(file_mb "$tmp/export.json")
  printf '%-28s %10s MB %12s MB %10.1f s %8.0f MB/s\n' "$label" "$(mb "$kb")" "$size" \
    "$(echo "$end - $start" | bc)" "$(echo "$size / ($end - $start)" | bc -l)"
  echo "$kb" >"$tmp/$label.kb"
}

echo "generating ${small} MB of conversation text…" >&2
"$gen" --db "$db" --key-file "$key_file" --mb "$small" >/dev/null
floor_kb=$(peak_kb "$x420" history list --limit 1)
printf '%-28s %13s %15s %12s %13s\n' "case" "peak RSS" "export size" "time" "throughput"
measure "local, ${small} MB account"
echo "generating up to ${large} MB…" >&2
"$gen" --db "$db" --key-file "$key_file" --mb $((large - small)) >/dev/null
measure "local, ${large} MB account"

# Through the service: the server produces the bundle chunk by chunk, the CLI writes each piece.
"$x420" serve --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q '^listening ' "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(head -1 "$tmp/serve.out" | sed 's/.*://')
serve_before=$(awk '/VmHWM/ {print $2}' "/proc/$serve_pid/status")
client_kb=$(X420_TOKEN=$operator peak_kb "$x420" export -q --server "http://127.0.0.1:$port" -o "$tmp/remote.json")
serve_after=$(awk '/VmHWM/ {print $2}' "/proc/$serve_pid/status")
"$x420" export check "$tmp/remote.json" >/dev/null
printf '%-28s %10s MB   (server peak %s MB before the export, %s MB after)\n' \
  "--server client, ${large} MB" "$(mb "$client_kb")" "$(mb "$serve_before")" "$(mb "$serve_after")"

small_kb=$(cat "$tmp/local, ${small} MB account.kb")
large_kb=$(cat "$tmp/local, ${large} MB account.kb")
printf 'floor (x420 history list): %s MB\n' "$(mb "$floor_kb")"
printf 'growth from %s MB to %s MB of text: %s MB of RSS\n' "$small" "$large" "$(mb $((large_kb - small_kb)))"
echo "export_peak_rss_mb=$(mb "$large_kb") account_mb=$large server_peak_rss_mb=$(mb "$serve_after") rss_growth_mb=$(mb $((large_kb - small_kb)))"
