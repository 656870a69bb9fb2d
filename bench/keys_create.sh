#!/usr/bin/env bash
# Wall time of `x420 keys create`, one process per key as a user or a script would run it,
# against the ≤ 50 ms target of issue "keys". A benchmark, never part of pass/fail: it prints
# figures and, from the same run, the cost of starting a process at all (`/bin/true`,
# `x420 --version`, `sqlite3 DB 'select 1'`), so a slow machine can be read as ratios.
#
# Usage: bench/keys_create.sh [PATH/TO/x420]     (or X420_BIN=...; default ../build/x420)
#        X420_BENCH_N=200 sets the number of creates (and of runs of each baseline).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
x420=${1:-${X420_BIN:-$script_dir/../build/x420}}
n=${X420_BENCH_N:-200}

if [[ ! -x $x420 ]]; then
  echo "keys_create.sh: no x420 binary at $x420 (build it, or pass its path)" >&2
  exit 2
fi
if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
  echo "keys_create.sh: X420_BENCH_N must be a positive integer, not '$n'" >&2
  exit 2
fi
x420=$(cd "$(dirname "$x420")" && pwd)/$(basename "$x420")

# A throwaway HOME, so the user's store and master key are never touched.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/x420-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp
unset XDG_DATA_HOME XDG_CONFIG_HOME X420_MASTER_KEY
db=$HOME/.local/share/x420/x420.db

# Nanoseconds now. bash 5's EPOCHREALTIME costs no process; `date +%s%N` (the fallback) adds
# the start of one `date` to every figure, baselines included.
if [[ -n ${EPOCHREALTIME:-} ]]; then
  clock="EPOCHREALTIME (in-shell)"
  now_ns() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t * 1000)); }
else
  clock="date +%s%N (one extra process per sample)"
  now_ns() { date +%s%N; }
fi

# time_runs FILE CMD...: runs CMD n times, appends each wall time in ms to FILE. A failing run
# ends the benchmark: its figure would mean nothing. "{i}" in CMD becomes the run number.
time_runs() {
  local out=$1 i start end
  shift
  for ((i = 1; i <= n; i++)); do
    local cmd=("${@//\{i\}/$i}")
    start=$(now_ns)
    if ! "${cmd[@]}" >/dev/null 2>"$tmp/stderr"; then
      echo "keys_create.sh: run $i of '${cmd[*]}' failed:" >&2
      cat "$tmp/stderr" >&2
      exit 1
    fi
    end=$(now_ns)
    echo "$(((end - start) / 1000))" | awk '{ printf "%.3f\n", $1 / 1000 }' >>"$out"
  done
}

# quantile FILE Q: the Q-quantile (0.5, 0.95) of the samples, nearest rank.
quantile() {
  sort -g "$1" | awk -v q="$2" '{ v[NR] = $1 }
    END { r = int(q * NR); if (r < q * NR) r++; if (r < 1) r = 1; printf "%.2f", v[r] }'
}

"$x420" init -q >/dev/null 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; exit 1; }
# One create before timing, so the store's first write (WAL file, page cache) is not in the figures.
"$x420" keys create --name bench-warmup -q >/dev/null

time_runs "$tmp/create.ms" "$x420" keys create --name "bench-{i}" -q
time_runs "$tmp/true.ms" /bin/true
time_runs "$tmp/version.ms" "$x420" --version
have_sqlite=0
if command -v sqlite3 >/dev/null; then
  have_sqlite=1
  time_runs "$tmp/sqlite.ms" sqlite3 "$db" 'select 1'
fi

created=$("$x420" keys list --json | grep -o '"name": *"bench-[0-9]*"' | wc -l)
if ((created != n)); then
  echo "keys_create.sh: expected $n bench-N keys in the store, found $created" >&2
  exit 1
fi

create_median=$(quantile "$tmp/create.ms" 0.5)
version_median=$(quantile "$tmp/version.ms" 0.5)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

echo "x420 keys create benchmark"
echo "binary: $x420 ($("$x420" --version))"
echo "runs:   $n of each, wall time per process, clock: $clock"
echo
printf '%-36s %10s %10s %10s\n' "command" "median ms" "p95 ms" "x version"
row() { printf '%-36s %10s %10s %10s\n' "$1" "$(quantile "$2" 0.5)" "$(quantile "$2" 0.95)" \
  "$(ratio "$(quantile "$2" 0.5)" "$version_median")"; }
row "x420 keys create --name bench-N -q" "$tmp/create.ms"
row "baseline: x420 --version" "$tmp/version.ms"
row "baseline: /bin/true" "$tmp/true.ms"
if ((have_sqlite)); then row "baseline: sqlite3 DB 'select 1'" "$tmp/sqlite.ms"; fi
echo
echo "create_ms_median=$create_median target=50"
