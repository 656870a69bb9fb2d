#!/usr/bin/env bash
# Precision on ordinary code: the system headers under /usr/include hold no secrets, so every
# finding there is a false positive. Reports findings per MB and lists each one; fails above
# 0.05 per MB (about a dozen in the 250 MB of a Debian build machine's headers).
source "$(dirname "$0")/lib.sh"

ROOT=${X420_CLEAN_CORPUS:-/usr/include}
expect_exit 0 "scan $ROOT" bash -c "'$X420_BIN' scan --no-progress --format json '$ROOT' >'$WORK/report.json'; rc=\$?; [[ \$rc -le 1 ]]"
BYTES=$(jq .summary.bytes_scanned "$WORK/report.json")
COUNT=$(jq '.findings | length' "$WORK/report.json")
PER_MB=$(awk -v c="$COUNT" -v b="$BYTES" 'BEGIN { printf "%.4f", (b > 0 ? c / (b / 1e6) : 0) }')
echo "clean code: $COUNT findings in $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB of $ROOT = $PER_MB per MB"
jq -r '.findings[] | "  \(.rule)  \(.path):\(.line)  \(.preview[0:100])"' "$WORK/report.json"
[[ $BYTES -gt 1000000 ]] && pass || fail "scanned too little of $ROOT to judge ($BYTES bytes)"
awk -v p="$PER_MB" 'BEGIN { exit !(p <= 0.05) }' && pass || fail "$PER_MB findings per MB of clean code"

finish
