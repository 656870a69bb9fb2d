#!/usr/bin/env bash
# x420 side by side with ripgrep and secretlint (issue 12, item 7). A benchmark, never part of
# pass/fail. In one run, on the same inputs:
#   - the generated corpus (tests/corpus, written one sample a file by corpus_writer): recall is
#     the share of files holding a secret that a tool flags, false positives the share of files
#     holding none (a rule's negative, a placeholder) that it flags;
#   - a clean tree (the first X420_SBS_MB MB of /usr/include's files under 1 MB, in name order):
#     MB/s on one thread, median of X420_SBS_RUNS interleaved runs, and how many files each tool
#     flags there (x420: files with a finding of class secret).
# ripgrep gets one pattern per x420 rule (detect_bench --print-patterns, in Rust's syntax; a
# pattern rg refuses is left out), run by default and with --no-unicode. secretlint runs its
# recommended preset, installed from npm into the throwaway directory.
#
# Usage: bench/side_by_side.sh [BUILD_DIR]   (default ../build from here: x420, bench/detect_bench
#                                             and bench/corpus_writer built there)
#        X420_SBS_SAMPLES=1500   samples of each kind (secret, clean) written from the corpus
#        X420_SBS_MB=20          size of the clean tree
#        X420_SBS_RUNS=3         timed runs of each tool on the clean tree
#        X420_SBS_TIMEOUT=900    seconds a tool may take over one input; slower is reported as such
# secretlint takes about 80 ms a file and 50 s for the 20 MB tree: the whole run takes about ten minutes.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-$script_dir/../build}" && pwd)
x420=$build/x420
helper=$build/bench/detect_bench
writer=$build/bench/corpus_writer
samples=${X420_SBS_SAMPLES:-1500}
mb=${X420_SBS_MB:-20}
runs=${X420_SBS_RUNS:-3}
limit_s=${X420_SBS_TIMEOUT:-900}
src=/usr/include

for bin in "$x420" "$helper" "$writer"; do
  [[ -x $bin ]] || { echo "side_by_side.sh: no $(basename "$bin") at $bin (ninja -C $build x420 bench/detect_bench bench/corpus_writer)" >&2; exit 2; }
done
command -v rg >/dev/null || { echo "side_by_side.sh: ripgrep is not installed (apt-get install ripgrep)" >&2; exit 2; }
command -v jq >/dev/null || { echo "side_by_side.sh: jq is not installed (apt-get install jq)" >&2; exit 2; }
for n in "$samples" "$mb" "$runs" "$limit_s"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "side_by_side.sh: X420_SBS_SAMPLES, X420_SBS_MB, X420_SBS_RUNS and X420_SBS_TIMEOUT must be positive integers" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/x420-sbs-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home  # x420's compiled-rule cache and npm's go here, not into the user's own
mkdir "$HOME"
unset XDG_CACHE_HOME XDG_DATA_HOME XDG_CONFIG_HOME X420_MASTER_KEY

if [[ -n ${EPOCHREALTIME:-} ]]; then
  now_us() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t)); }
else
  now_us() { echo $(($(date +%s%N) / 1000)); }
fi

# --- Inputs.
corpus=$tmp/corpus
"$writer" "$corpus" "$samples" 2>"$tmp/writer.log"
secret_files=$(awk -F'\t' '$4 == "secret"' "$corpus/manifest.tsv" | wc -l)
clean_files=$(awk -F'\t' '$4 != "secret"' "$corpus/manifest.tsv" | wc -l)

tree=$tmp/tree
mkdir "$tree"
find "$src" -type f -size -1024k -printf '%s %P\n' | LC_ALL=C sort -k2 |
  awk -v max=$((mb * 1000000)) '!full && total + $1 > max { full = 1 } !full { total += $1; sub(/^[0-9]+ /, ""); print }' >"$tmp/tree.list"
tar -C "$src" -cf - -T "$tmp/tree.list" | tar -C "$tree" -xf -
read -r tree_files tree_bytes < <(find "$tree" -type f -printf '%s\n' | awk '{ n++; s += $1 } END { print n, s }')

"$helper" --print-patterns >"$tmp/rules.tsv" 2>"$tmp/rewritten"
: >"$tmp/patterns.txt"
while IFS=$'\t' read -r _ pattern; do
  printf '%s\n' "$pattern" >"$tmp/one.txt"
  rc=0
  rg -f "$tmp/one.txt" /dev/null >/dev/null 2>&1 || rc=$?
  ((rc <= 1)) && printf '%s\n' "$pattern" >>"$tmp/patterns.txt"
done <"$tmp/rules.tsv"
rg_limit=()
for limit in 100M 200M 400M 800M 1600M 3200M; do
  rc=0
  rg --regex-size-limit "$limit" -f "$tmp/patterns.txt" /dev/null >/dev/null 2>&1 || rc=$?
  if ((rc <= 1)); then
    [[ $limit != 100M ]] && rg_limit=(--regex-size-limit "$limit")
    break
  fi
done

secretlint=""
mkdir "$tmp/secretlint"
if (cd "$tmp/secretlint" && timeout 300 npm install --no-audit --no-fund --silent secretlint \
      @secretlint/secretlint-rule-preset-recommend >"$tmp/npm.log" 2>&1); then
  secretlint=$tmp/secretlint/node_modules/.bin/secretlint
  echo '{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}' >"$tmp/secretlint/.secretlintrc.json"
fi

# --- Each tool's flagged files under DIR, one relative path a line, sorted.
# A tool that passes the time limit leaves a "timeout" marker file instead.
flagged() {  # flagged TOOL DIR CLASSES (x420's classes counted: a jq test on .class)
  local tool=$1 dir=$2 classes=$3 rc=0
  rm -f "$tmp/timeout"
  case $tool in
    x420) timeout "$limit_s" "$x420" scan --threads 1 --no-progress --format json "$dir" >"$tmp/x420.json" 2>/dev/null || rc=$?
          ((rc <= 1 || rc == 124)) || { echo "side_by_side.sh: x420 scan failed ($rc)" >&2; exit 1; }
          if ((rc == 124)); then touch "$tmp/timeout"; else jq -r ".findings[] | select($classes) | .path" "$tmp/x420.json"; fi ;;
    rg|rg-no-unicode)
          local flags=()
          [[ $tool == rg-no-unicode ]] && flags=(--no-unicode)
          timeout "$limit_s" rg --threads 1 "${flags[@]}" "${rg_limit[@]}" -l -f "$tmp/patterns.txt" "$dir" || rc=$?
          if ((rc == 124)); then touch "$tmp/timeout"; fi ;;
    secretlint)
          (cd "$tmp/secretlint" && timeout "$limit_s" "$secretlint" --format json "$dir/**/*" >"$tmp/sl.json" 2>/dev/null) || rc=$?
          if ((rc == 124)); then touch "$tmp/timeout"; else jq -r '.[] | select(.messages | length > 0) | .filePath' "$tmp/sl.json"; fi ;;
  esac | sed "s|^$dir/||" | sort -u
}

tools=(x420 rg rg-no-unicode)
[[ -n $secretlint ]] && tools+=(secretlint)
for tool in "${tools[@]}"; do
  flagged "$tool" "$corpus" true | grep -v '^manifest.tsv$' >"$tmp/corpus.$tool" || true
  [[ -e $tmp/timeout ]] && touch "$tmp/corpus-timeout.$tool"
done

# Clean tree: interleaved timed runs; the flagged files of the last.
for ((run = 1; run <= runs; run++)); do
  for tool in "${tools[@]}"; do
    [[ -e $tmp/tree-timeout.$tool ]] && continue  # too slow once: not run again
    start=$(now_us)
    flagged "$tool" "$tree" '.class == "secret"' >"$tmp/tree.$tool"
    echo $(($(now_us) - start)) >>"$tmp/us.$tool"
    [[ -e $tmp/timeout ]] && touch "$tmp/tree-timeout.$tool"
  done
done

median_s() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m / 1e6 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? 100 * a / b : 0 }'; }

echo "x420 side by side: generated corpus and a clean tree, one thread each"
echo "x420:       $x420 ($("$x420" --version))"
echo "ripgrep:    $(rg --version | head -1), $(wc -l <"$tmp/patterns.txt") of $(wc -l <"$tmp/rules.tsv") rule patterns${rg_limit[*]:+, ${rg_limit[*]}}"
if [[ -n $secretlint ]]; then
  echo "secretlint: $("$secretlint" --version) with @secretlint/secretlint-rule-preset-recommend"
else
  echo "secretlint: not installed (npm failed: $(tail -1 "$tmp/npm.log"))"
fi
echo "corpus:     $secret_files files with a secret, $clean_files without ($(cat "$tmp/writer.log"))"
echo "tree:       $tree_files files, $(awk -v b="$tree_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB from $src; $runs runs each, interleaved, warm cache"
echo
printf '%-15s %10s %10s %10s %10s %14s\n' tool "recall %" "FP %" "tree s" "tree MB/s" "tree flagged"
for tool in "${tools[@]}"; do
  hits=$(awk -F'\t' 'NR == FNR { f[$1] = 1; next } $4 == "secret" && ($1 in f)' "$tmp/corpus.$tool" "$corpus/manifest.tsv" | wc -l)
  fps=$(awk -F'\t' 'NR == FNR { f[$1] = 1; next } $4 != "secret" && ($1 in f)' "$tmp/corpus.$tool" "$corpus/manifest.tsv" | wc -l)
  recall=$(pct "$hits" "$secret_files") fp=$(pct "$fps" "$clean_files")
  [[ -e $tmp/corpus-timeout.$tool ]] && recall="> ${limit_s} s" fp="-"
  s=$(median_s "$tmp/us.$tool")
  rate=$(awk -v b="$tree_bytes" -v s="$s" 'BEGIN { printf "%.1f", b / 1e6 / s }') count=$(wc -l <"$tmp/tree.$tool")
  [[ -e $tmp/tree-timeout.$tool ]] && s="> $limit_s" rate="< $(awk -v b="$tree_bytes" -v s="$limit_s" 'BEGIN { printf "%.2f", b / 1e6 / s }')" count="-"
  printf '%-15s %10s %10s %10s %10s %14s\n' "$tool" "$recall" "$fp" "$s" "$rate" "$count"
done
echo
echo "recall and FP are by file: a file counts when the tool reports anything in it. ripgrep runs x420's"
echo "own patterns without its keywords, validators, entropy gates or placeholder checks, so its recall"
echo "is an upper bound on what the regexes alone reach and its false positives what they cost."
