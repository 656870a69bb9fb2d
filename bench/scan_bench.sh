#!/usr/bin/env bash
# Whole-tree scans from the command line, x420 against ripgrep given one pattern per x420 rule,
# against the ≥ 5x-ripgrep target of issue "detect". A benchmark, never part of pass/fail: both
# tools run on the same corpus in the same run, interleaved, so the ratio holds on a busy machine;
# a one-literal ripgrep search is the baseline for walking and reading the tree.
#
# Usage: bench/scan_bench.sh [BUILD_DIR]   (default ../build-bench from here; it needs x420 and
#                                           bench/detect_bench built there, or X420_BIN/DETECT_BENCH)
#        X420_BENCH_MB=150       corpus size, copied from X420_BENCH_SRC (default /usr/include)
#        X420_BENCH_SECRETS=300  fake secrets sprinkled into it
#        X420_BENCH_RUNS=3       timed runs of each command (the median is reported)
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$script_dir/../build-bench}
x420=${X420_BIN:-$build/x420}
helper=${DETECT_BENCH:-$build/bench/detect_bench}
src=${X420_BENCH_SRC:-/usr/include}
mb=${X420_BENCH_MB:-150}
secrets=${X420_BENCH_SECRETS:-300}
runs=${X420_BENCH_RUNS:-3}

for bin in "$x420" "$helper"; do
  if [[ ! -x $bin ]]; then
    echo "scan_bench.sh: no $(basename "$bin") at $bin (ninja -C build-bench x420 detect_bench, or pass the build dir)" >&2
    exit 2
  fi
done
if ! command -v rg >/dev/null; then
  echo "scan_bench.sh: ripgrep is not installed (apt-get install ripgrep); it is what x420 is compared with" >&2
  exit 2
fi
for n in "$mb" "$secrets" "$runs"; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
    echo "scan_bench.sh: X420_BENCH_MB, X420_BENCH_SECRETS and X420_BENCH_RUNS must be positive integers" >&2
    exit 2
  fi
done
x420=$(cd "$(dirname "$x420")" && pwd)/$(basename "$x420")

# A throwaway HOME: x420 keeps its compiled-rule cache there, never in the user's own.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/x420-scan-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home
mkdir "$HOME"
unset XDG_CACHE_HOME XDG_DATA_HOME XDG_CONFIG_HOME X420_MASTER_KEY

# Nanoseconds now (bash 5's EPOCHREALTIME; `date +%s%N` adds one process start to each figure).
if [[ -n ${EPOCHREALTIME:-} ]]; then
  now_ns() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t * 1000)); }
else
  now_ns() { date +%s%N; }
fi

# --- The corpus: whole entries of $src in name order until $mb MB, symlinks dropped (neither
# tool follows them by default), then the fakes sprinkled in.
corpus=$tmp/corpus
mkdir "$corpus"
copied=0
for entry in "$src"/*; do
  ((copied >= mb * 1000000)) && break
  cp -r --no-dereference "$entry" "$corpus/"
  copied=$((copied + $(du -sb --apparent-size "$entry" | cut -f1)))
done
find "$corpus" -type l -delete
sprinkled=$("$helper" --sprinkle "$corpus" "$secrets" 2>"$tmp/kinds")
read -r files bytes < <(find "$corpus" -type f -printf '%s\n' | awk '{ n++; s += $1 } END { print n, s }')

# --- One ripgrep pattern per rule, in Rust's syntax; a pattern rg refuses alone is left out.
"$helper" --print-patterns >"$tmp/rules.tsv" 2>"$tmp/rewritten"
: >"$tmp/patterns.txt"
dropped=()
while IFS=$'\t' read -r id pattern; do
  printf '%s\n' "$pattern" >"$tmp/one.txt"
  rc=0
  rg -f "$tmp/one.txt" /dev/null >/dev/null 2>&1 || rc=$?
  if ((rc <= 1)); then printf '%s\n' "$pattern" >>"$tmp/patterns.txt"; else dropped+=("$id"); fi
done <"$tmp/rules.tsv"
rules=$(wc -l <"$tmp/rules.tsv")
used=$(wc -l <"$tmp/patterns.txt")
# All of them together can pass rg's compiled-size limit (100 MB by default): double it until
# the set compiles, so rg runs every pattern rather than failing.
rg_limit=()
for limit in 100M 200M 400M 800M 1600M 3200M; do
  rc=0
  rg --regex-size-limit "$limit" -f "$tmp/patterns.txt" /dev/null >/dev/null 2>"$tmp/rg.err" || rc=$?
  if ((rc <= 1)); then
    [[ $limit != 100M ]] && rg_limit=(--regex-size-limit "$limit")
    break
  fi
done
if ((rc > 1)); then
  echo "scan_bench.sh: ripgrep cannot compile the pattern set: $(cat "$tmp/rg.err")" >&2
  exit 1
fi

# --- Commands. Exit status 1 is "found something" for both tools; anything above is a failure.
threads=$(nproc)
# shellcheck disable=SC2034  # the arrays are used by name, through run_cmd's nameref
{
  x420_1=("$x420" scan --threads 1 --no-progress --format json "$corpus")
  rg_1=(rg --threads 1 "${rg_limit[@]}" -f "$tmp/patterns.txt" -c "$corpus")
  x420_n=("$x420" scan --no-progress --format json "$corpus")
  rg_n=(rg "${rg_limit[@]}" -f "$tmp/patterns.txt" -c "$corpus")
  base_1=(rg --threads 1 -c -F x420-bench-never-present "$corpus")
}
names=("x420 scan --threads 1" "rg --threads 1 -f patterns.txt -c" "x420 scan (all $threads cores)"
  "rg -f patterns.txt -c (all $threads cores)" "baseline: rg --threads 1 -F one literal")
cmds=(x420_1 rg_1 x420_n rg_n base_1)

run_cmd() {  # run_cmd ARRAY-NAME OUT: runs the command, its stdout to OUT
  local -n cmd=$1
  local rc=0
  "${cmd[@]}" >"$2" 2>"$tmp/stderr" || rc=$?
  if ((rc > 1)); then
    echo "scan_bench.sh: '${cmd[*]}' failed (exit $rc):" >&2
    cat "$tmp/stderr" >&2
    exit 1
  fi
}

# Warm: the page cache, and x420's compiled-rule cache (the first run compiles and stores it).
run_cmd x420_1 "$tmp/x420.json"
cache_files=$(find "$HOME/.cache/x420" -name 'engine-*.hsdb' 2>/dev/null | wc -l)

# Runs interleave the commands, so drift in machine load hits them all alike.
for ((run = 1; run <= runs; run++)); do
  for i in "${!cmds[@]}"; do
    start=$(now_ns)
    run_cmd "${cmds[$i]}" "$tmp/out.$i"
    end=$(now_ns)
    echo "$(((end - start) / 1000))" >>"$tmp/us.$i"
  done
done

median_s() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m / 1e6 }'; }
min_s() { sort -n "$1" | head -1 | awk '{ printf "%.3f", $1 / 1e6 }'; }
max_s() { sort -n "$1" | tail -1 | awk '{ printf "%.3f", $1 / 1e6 }'; }
mb_per_s() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

x420_findings=$(grep -o '"findings": *[0-9]*' "$tmp/out.0" | grep -o '[0-9]*$')
x420_bytes=$(grep -o '"bytes_scanned": *[0-9]*' "$tmp/out.0" | grep -o '[0-9]*$')
rg_lines=$(awk -F: '{ s += $NF } END { print s + 0 }' "$tmp/out.1")
rg_files=$(wc -l <"$tmp/out.1")

echo "x420 whole-tree scan benchmark, against ripgrep"
echo "x420:    $x420 ($("$x420" --version)); compiled-rule cache: $cache_files file(s) in a throwaway HOME"
echo "ripgrep: $(rg --version | head -1), ${used} of ${rules} rule patterns ($(cat "$tmp/rewritten"))${rg_limit[*]:+, ${rg_limit[*]}}"
((${#dropped[@]})) && echo "         left out (rg refuses them): ${dropped[*]}"
echo "corpus:  $files files, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB from $src, $sprinkled fake secrets sprinkled in ($(tr '\n' ' ' <"$tmp/kinds"| sed 's/ $//'))"
echo "runs:    $runs of each, interleaved, warm page cache; wall time per process; MB = 10^6 bytes"
echo
printf '%-44s %9s %9s %9s %9s\n' "command" "median s" "min s" "max s" "MB/s"
for i in "${!cmds[@]}"; do
  med=$(median_s "$tmp/us.$i")
  printf '%-44s %9s %9s %9s %9s\n' "${names[$i]}" "$med" "$(min_s "$tmp/us.$i")" "$(max_s "$tmp/us.$i")" "$(mb_per_s "$med")"
done
one=$(ratio "$(median_s "$tmp/us.1")" "$(median_s "$tmp/us.0")")
all=$(ratio "$(median_s "$tmp/us.3")" "$(median_s "$tmp/us.2")")
echo
echo "x420 / rg speed: one core ${one}x, all cores ${all}x"
echo "found: x420 $x420_findings findings (json summary); rg $rg_lines matching lines in $rg_files files (-c, summed)"
echo "bytes: x420 scanned $x420_bytes of the corpus's $bytes"
echo "scan_vs_rg_1core=$one target=5"
