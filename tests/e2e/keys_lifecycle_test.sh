#!/usr/bin/env bash
# The whole key lifecycle as a user and a CI script see it: init, create, verify, rotate with a
# grace, revoke, expiry; and no plaintext key ever reaches the SQLite file or its WAL.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "init" x420 init
OPERATOR_TOKEN=$OUT
[[ $OPERATOR_TOKEN =~ ^x420m_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$ ]] && pass || fail "init prints the operator token: '$OUT'"
[[ $(stat -c %a "$MASTER_KEY") == 600 ]] && pass || fail "master key mode is 0600"
expect_exit 0 "init again" x420 init
expect_eq "$OUT" "" "second init prints no token"
expect_contains "$ERR" "already initialised" "second init says so"

# Hold a connection open so SQLite keeps its WAL file; the bytes check below then covers it too.
mkfifo "$WORK/holder"
sqlite3 "$DB" <"$WORK/holder" >/dev/null 2>&1 &
BACKGROUND_PIDS+=($!)
exec 9>"$WORK/holder"
echo "SELECT count(*) FROM tenants;" >&9

KEYS=()

expect_exit 0 "create" x420 keys create --name laptop
KEY=$OUT
KEYS+=("$KEY")
[[ $KEY =~ ^x420_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$ ]] && pass || fail "create prints only the key on stdout: '$OUT'"
expect_contains "$ERR" "will not show it again" "create explains show-once"
ID=${KEY:5:12}

expect_exit 0 "verify a new key" bash -c "printf '%s\n' '$KEY' | '$X420_BIN' keys verify"
expect_contains "$OUT" "valid: key $ID" "verify names the key"
expect_exit 0 "verify without trailing newline" bash -c "printf '%s' '$KEY' | '$X420_BIN' keys verify -q"
expect_eq "$OUT" "" "verify -q prints nothing"

expect_exit 0 "list" x420 keys list
expect_contains "$OUT" "$ID" "list shows the id"
expect_contains "$OUT" "laptop" "list shows the name"
expect_not_contains "$OUT" "${KEY:18}" "list never shows the secret"
expect_exit 0 "show" x420 keys show "$ID"
expect_not_contains "$OUT" "${KEY:18}" "show never shows the secret"
expect_exit 0 "show --json" x420 keys show "$ID" --json
expect_eq "$(json_field "$OUT" status)" "active" "show --json status"
expect_eq "$(jq -r 'has("key") or has("hash")' <<<"$OUT")" "false" "show --json has no key or hash"

expect_exit 0 "create --json" x420 keys create --name ci --expires 30d --rpm 60 --tpm 5000 --cap-usd 12.50 --no-log --json
for field in id key name created_at expires_at; do
  [[ $(jq -r ".$field" <<<"$OUT") != null ]] && pass || fail "create --json has $field"
done
expect_eq "$(json_field "$OUT" cap_usd)" "12.5" "cap stored"
expect_eq "$(json_field "$OUT" rpm)" "60" "rpm stored"
expect_eq "$(json_field "$OUT" no_log)" "true" "no-log stored"
KEYS+=("$(json_field "$OUT" key)")

# Rotation with a short grace: both work, then only the new one.
expect_exit 0 "rotate with grace" x420 keys rotate "$ID" --grace 3s
NEW=$OUT
KEYS+=("$NEW")
[[ $NEW == x420_${ID}_* && $NEW != "$KEY" ]] && pass || fail "rotate keeps the id and changes the secret"
expect_contains "$ERR" "previous secret keeps working until" "rotate names the grace end"
expect_exit 0 "old key within grace" bash -c "echo '$KEY' | '$X420_BIN' keys verify"
expect_exit 0 "new key after rotate" bash -c "echo '$NEW' | '$X420_BIN' keys verify"
sleep 3.5
expect_exit 3 "old key after grace" bash -c "echo '$KEY' | '$X420_BIN' keys verify"
expect_contains "$ERR" "grace period has ended" "verify says why"
expect_exit 0 "new key after grace" bash -c "echo '$NEW' | '$X420_BIN' keys verify"

# Rotation without grace: the old secret is refused at once.
expect_exit 0 "rotate without grace" x420 keys rotate "$ID"
NEWER=$OUT
KEYS+=("$NEWER")
expect_exit 3 "previous key after rotate --grace 0" bash -c "echo '$NEW' | '$X420_BIN' keys verify"

# Revoke.
expect_exit 0 "revoke" x420 keys revoke "$ID"
expect_exit 3 "revoked key" bash -c "echo '$NEWER' | '$X420_BIN' keys verify"
expect_contains "$ERR" "revoked" "verify says revoked"
expect_exit 0 "show revoked" x420 keys show "$ID" --json
expect_eq "$(json_field "$OUT" status)" "revoked" "status after revoke"
expect_exit 2 "rotate a revoked key" x420 keys rotate "$ID"

# Expiry.
expect_exit 0 "create short-lived" x420 keys create --name brief --expires 1s
SHORT=$OUT
KEYS+=("$SHORT")
sleep 1.5
expect_exit 3 "expired key" bash -c "echo '$SHORT' | '$X420_BIN' keys verify"
expect_contains "$ERR" "expired" "verify says expired"
expect_exit 0 "list --json" x420 keys list --json
expect_eq "$(jq -r "map(select(.id == \"${SHORT:5:12}\"))[0].status" <<<"$OUT")" "expired" "listed as expired"

# A wrong checksum is refused.
BROKEN=${NEW%?}$([[ ${NEW: -1} == A ]] && echo B || echo A)
expect_exit 3 "wrong checksum" bash -c "echo '$BROKEN' | '$X420_BIN' keys verify"
expect_contains "$ERR" "checksum" "verify names the checksum"

# No plaintext key, nor its secret part, in the database, its WAL or shm.
[[ -s $DB-wal ]] && pass || fail "the WAL file exists while a connection holds it"
for k in "${KEYS[@]}" "$OPERATOR_TOKEN"; do
  expect_absent_from_files "$k" "plaintext key" "$DB" "$DB-wal" "$DB-shm"
  expect_absent_from_files "${k: -38}" "secret part of a key" "$DB" "$DB-wal" "$DB-shm"
done
exec 9>&-

finish
