#!/usr/bin/env bash
# x420 redact: mask and pseudonymize, stable placeholders under the store's key, a sealed map
# that restores the originals and refuses to open when tampered with.
source "$(dirname "$0")/lib.sh"

rand() { head -c 400 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
AWS_ID="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
GH="ghp_$(rand 36)"
printf 'Please debug: key %s and token %s, again %s.\n' "$AWS_ID" "$GH" "$AWS_ID" >"$WORK/prompt.txt"

expect_exit 0 "mask" x420 redact "$WORK/prompt.txt"
expect_eq "$OUT" "Please debug: key [REDACTED:aws.access_key_id] and token [REDACTED:github.pat], again [REDACTED:aws.access_key_id]." "mask output"
expect_contains "$ERR" "redacted 3" "counts on stderr"
expect_exit 0 "mask from stdin" bash -c "'$X420_BIN' redact < '$WORK/prompt.txt'"
expect_not_contains "$OUT" "$AWS_ID" "stdin redacted"

# Prose: a .env line and a curl header inside a sentence; only the secrets change.
PW="Q$(rand 10)7q$(rand 10)3x"
KEY="k$(rand 14)5z$(rand 14)8"
printf 'my config has DB_PASSWORD=%s please fix; curl -H "x-api-key: %s" https://api.example.com/v1 says 401.\n' "$PW" "$KEY" >"$WORK/prose.txt"
expect_exit 0 "mask prose" x420 redact "$WORK/prose.txt"
expect_eq "$OUT" 'my config has DB_PASSWORD=[REDACTED:generic.password_inline] please fix; curl -H "x-api-key: [REDACTED:generic.http_header_credential]" https://api.example.com/v1 says 401.' "mid-sentence password and curl header masked, the sentence kept"

expect_exit 0 "init" x420 init
expect_exit 0 "pseudonymize" x420 redact --mode pseudonymize "$WORK/prompt.txt"
FIRST=$OUT
[[ $FIRST =~ X420_REDACTED_aws_access_key_id_[0-9a-f]{8} ]] && pass || fail "placeholder format: $FIRST"
P1=$(grep -o 'X420_REDACTED_aws_access_key_id_[0-9a-f]*' <<<"$FIRST" | sort -u | wc -l)
expect_eq "$P1" "1" "the same secret gets the same placeholder"
expect_exit 0 "pseudonymize again" x420 redact --mode pseudonymize "$WORK/prompt.txt"
expect_eq "$OUT" "$FIRST" "placeholders are stable across runs"
expect_exit 0 "another tenant" x420 tenants create other
expect_exit 0 "pseudonymize in another tenant" x420 --tenant other redact --mode pseudonymize "$WORK/prompt.txt"
[[ $OUT != "$FIRST" ]] && pass || fail "placeholders differ per tenant"

expect_exit 0 "pseudonymize with a map" x420 redact --mode pseudonymize --map "$WORK/p.map" "$WORK/prompt.txt"
printf '%s\n' "$OUT" >"$WORK/safe.txt"
[[ $(stat -c %a "$WORK/p.map") == 600 ]] && pass || fail "map file is 0600"
expect_absent_from_files "$AWS_ID" "secret in the map file" "$WORK/p.map"
expect_absent_from_files "$GH" "token in the map file" "$WORK/p.map"
expect_exit 0 "restore" x420 redact --restore --map "$WORK/p.map" "$WORK/safe.txt"
expect_eq "$OUT" "$(cat "$WORK/prompt.txt")" "restore gives the original back"

cp "$WORK/p.map" "$WORK/tampered.map"
printf '\x01' | dd of="$WORK/tampered.map" bs=1 seek=40 conv=notrunc 2>/dev/null
expect_exit 2 "tampered map" x420 redact --restore --map "$WORK/tampered.map" "$WORK/safe.txt"
expect_contains "$ERR" "does not open" "says the map does not open"
head -c 12 "$WORK/p.map" >"$WORK/truncated.map"
expect_exit 2 "truncated map" x420 redact --restore --map "$WORK/truncated.map" "$WORK/safe.txt"
expect_exit 2 "--restore without --map" x420 redact --restore "$WORK/safe.txt"
expect_exit 2 "--map with mask" x420 redact --map "$WORK/x.map" "$WORK/prompt.txt"
expect_exit 2 "bad --mode" x420 redact --mode shred "$WORK/prompt.txt"
expect_exit 2 "missing input" x420 redact "$WORK/nope.txt"

finish
