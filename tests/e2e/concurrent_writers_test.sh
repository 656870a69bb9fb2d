#!/usr/bin/env bash
# Two CLI processes creating keys on one store at the same time: none fails, none is lost.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "init" x420 init
PER_WRITER=25
writer() {
  local i
  for ((i = 0; i < PER_WRITER; i++)); do
    "$X420_BIN" keys create --name "w$1-$i" -q >>"$WORK/keys-$1" || echo "create failed" >>"$WORK/errors"
  done
}
writer a &
A=$!
writer b &
B=$!
wait $A $B
[[ ! -s $WORK/errors ]] && pass || fail "a concurrent create failed: $(cat "$WORK/errors")"
expect_exit 0 "list" x420 keys list --json
expect_eq "$(jq length <<<"$OUT")" "$((2 * PER_WRITER))" "every key was stored"
expect_eq "$(cat "$WORK/keys-a" "$WORK/keys-b" | sort -u | wc -l)" "$((2 * PER_WRITER))" "every key is distinct"
expect_exit 0 "a key from each writer verifies" bash -c "head -1 '$WORK/keys-a' | '$X420_BIN' keys verify && tail -1 '$WORK/keys-b' | '$X420_BIN' keys verify"
expect_eq "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok" "store integrity"

finish
