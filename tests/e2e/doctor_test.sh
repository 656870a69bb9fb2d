#!/usr/bin/env bash
# x420 doctor on a healthy and a broken setup; kek rotate's .old copy and its refusal to strand a
# store that shares the key file; the keys commands that say more than they did (a duplicate
# name, a second revoke, an old secret in its grace, a key read without echo).
source "$(dirname "$0")/lib.sh"

# No store yet: a failure with the next step.
expect_exit 1 "doctor without a store" x420 doctor --no-network
expect_contains "$OUT" "fail  store" "the store check fails"
expect_contains "$OUT" "x420 init creates it" "and says what to do"
expect_exit 1 "doctor --json without a store" x420 doctor --no-network --json
jq -e '.problems >= 1 and ([.checks[] | select(.check == "store")][0] | .status == "fail" and (.fix | length > 0))' \
  <<<"$OUT" >/dev/null && pass || fail "doctor --json names the failed check and its fix: $OUT"

expect_exit 0 "init" x420 init -q
expect_exit 0 "healthy doctor" x420 doctor --no-network --json
for check in store "master key" "stores sharing the key" upstreams rules serve; do
  jq -e --arg c "$check" '[.checks[] | select(.check == $c)] | length == 1' <<<"$OUT" >/dev/null && pass ||
    fail "doctor has the '$check' check"
done
jq -e '[.checks[] | select(.check == "store")][0].data | .integrity == "ok" and .schema == .schema_current' \
  <<<"$OUT" >/dev/null && pass || fail "doctor reads the schema and the integrity"
jq -e '[.checks[] | select(.check == "upstreams")][0].status == "warn"' <<<"$OUT" >/dev/null && pass ||
  fail "no upstream is a warning"
jq -e '[.checks[] | select(.check == "rules")][0].data.rules > 100' <<<"$OUT" >/dev/null && pass || fail "doctor counts the rules"

# Upstreams: one that answers with its models, one refused at connect, one with a wrong path.
UPSTREAM_SECRET="sk-upstream-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
start_mock_upstream || { finish; exit 1; }
expect_exit 0 "upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
expect_exit 0 "doctor with a working upstream" x420 doctor --json --serve-url "http://127.0.0.1:9"
jq -e '[.checks[] | select(.check == "upstream mock")][0] | .status == "ok" and (.data.models | length > 0)' \
  <<<"$OUT" >/dev/null && pass || fail "doctor lists the upstream's models: $OUT"
want_auth=$(printf 'Bearer %s' "$UPSTREAM_SECRET" | sha256sum | cut -c1-64)
jq -e --arg h "$want_auth" 'select(.path == "/v1/models") | .auth_sha256 == $h' "$WORK/upstream.jsonl" >/dev/null && pass ||
  fail "doctor asked the upstream with its own key"
expect_not_contains "$OUT$ERR" "$UPSTREAM_SECRET" "the upstream key is not printed"
expect_exit 0 "dead upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add dead --kind openai \
  --base-url "http://127.0.0.1:9/v1" --api-key-env KEY
expect_exit 0 "wrong path" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add wrongpath --kind openai \
  --base-url "http://127.0.0.1:$MOCK/api/v1" --api-key-env KEY
expect_exit 1 "doctor with broken upstreams" x420 doctor --serve-url "http://127.0.0.1:9"
expect_contains "$OUT" "fail  upstream dead" "an unreachable upstream fails"
expect_contains "$OUT" "cannot reach http://127.0.0.1:9/v1" "with the cause"
expect_contains "$OUT" "fail  upstream wrongpath" "a wrong path fails"
expect_contains "$OUT" "HTTP 404" "with the status"
expect_not_contains "$OUT$ERR" "$UPSTREAM_SECRET" "the upstream key is never printed"
expect_exit 0 "remove" x420 upstreams remove dead -q
expect_exit 0 "remove" x420 upstreams remove wrongpath -q

# A running serve is seen.
start_serve
expect_exit 0 "doctor sees serve" x420 doctor --json --serve-url "$URL"
jq -e '[.checks[] | select(.check == "serve")][0] | .status == "ok" and .data.running' <<<"$OUT" >/dev/null && pass ||
  fail "doctor sees the running serve: $OUT"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true

# A wrong master key: the store does not open, and doctor says so.
cp "$MASTER_KEY" "$WORK/master.key.good"
expect_exit 1 "doctor with another master key" env X420_MASTER_KEY="x420mk1:$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" \
  "$X420_BIN" doctor --no-network
expect_contains "$OUT" "fail  master key" "a key that does not open the store fails"

# Two stores on one key file: doctor warns, kek rotate refuses and changes nothing.
OTHER=$WORK/other.db
expect_exit 0 "a second store on the same key" x420 --db "$OTHER" init -q
expect_exit 0 "doctor sees the shared key" x420 doctor --no-network --json
jq -e --arg o "$OTHER" '[.checks[] | select(.check == "stores sharing the key")][0] | .status == "warn" and (.data.stores | index($o))' \
  <<<"$OUT" >/dev/null && pass || fail "doctor lists the other store: $OUT"
key_before=$(cat "$MASTER_KEY")
expect_exit 2 "kek rotate refuses to strand the other store" x420 kek rotate
expect_contains "$ERR" "also opens 1 other store(s): $OTHER" "names the other store"
expect_contains "$ERR" "--force" "and the way past"
expect_eq "$(cat "$MASTER_KEY")" "$key_before" "a refused rotation changes the key file not at all"
[[ ! -e $MASTER_KEY.old && ! -e $MASTER_KEY.new ]] && pass || fail "a refused rotation writes no key file"
expect_exit 0 "kek rotate --force" x420 kek rotate --force --json
expect_eq "$(jq -r '.stores_not_rewrapped[0]' <<<"$OUT")" "$OTHER" "says which store it did not rewrap"
expect_eq "$(jq -r '.stores_rewrapped[0]' <<<"$OUT")" "$DB" "and which it did"
[[ $(stat -c %a "$MASTER_KEY.old") == 600 ]] && pass || fail "master.key.old is mode 0600"
expect_eq "$(cat "$MASTER_KEY.old")" "$key_before" "master.key.old is the key before the rotation"
expect_exit 0 "the rotated store opens" x420 keys list
expect_exit 3 "the other store no longer opens with the key file" x420 --db "$OTHER" keys list
expect_exit 0 "it opens with the old key" env X420_MASTER_KEY="$key_before" "$X420_BIN" --db "$OTHER" keys list
expect_exit 0 "doctor names the stranded store" x420 doctor --no-network --json
jq -e --arg o "$OTHER" '[.checks[] | select(.check == "stores sharing the key")][0].data.not_opened | index($o)' \
  <<<"$OUT" >/dev/null && pass || fail "doctor says which store the key file no longer opens: $OUT"

# Keys: a duplicate name warns, a second revoke says so, the old secret in its grace says until when.
expect_exit 0 "a key" x420 keys create --name ci -q
FIRST=$OUT
ID=${FIRST#x420_}
ID=${ID%%_*}
expect_exit 0 "a second key with the same name" x420 keys create --name ci -q
expect_contains "$ERR" "already has an active key named 'ci'" "a duplicate name warns"
expect_exit 0 "rotate with grace" x420 keys rotate "$ID" --grace 1h -q
NEW=$OUT
expect_exit 0 "the new secret" bash -c "printf '%s' '$NEW' | '$X420_BIN' keys verify"
expect_not_contains "$ERR" "previous secret" "the new secret is the current one"
expect_exit 0 "the old secret in its grace" bash -c "printf '%s' '$FIRST' | '$X420_BIN' keys verify --json"
expect_eq "$(jq -r .key.verified_secret <<<"$OUT")" "previous" "verify --json says it is the previous secret"
expect_contains "$ERR" "previous secret, kept by a rotation's grace until" "and says until when"
expect_exit 0 "revoke" x420 keys revoke "$ID"
expect_contains "$ERR" "Revoked key $ID" "the first revoke revokes"
expect_exit 0 "revoke again" x420 keys revoke "$ID"
expect_contains "$ERR" "was already revoked at" "the second says nothing changed"
expect_exit 0 "revoke again --json" x420 keys revoke "$ID" --json
expect_eq "$(jq -r .already_revoked <<<"$OUT")" "true" "--json says it was already revoked"

# keys verify on a terminal does not echo the pasted key (script(1) gives it a pseudo-terminal;
# the key is typed after the prompt, as a user pastes it).
if command -v script >/dev/null; then
  expect_exit 0 "a key for the terminal" x420 keys create --name tty -q
  NEW=$OUT
  ID=${NEW#x420_}
  ID=${ID%%_*}
  TYPED=$( (sleep 2; printf '%s\n' "$NEW") | timeout 20 script -qec "'$X420_BIN' keys verify" /dev/null 2>&1 || true)
  expect_contains "$TYPED" "(it is not shown)" "verify prompts on a terminal"
  expect_contains "$TYPED" "valid: key $ID" "the key read from the terminal is verified"
  expect_not_contains "$TYPED" "$NEW" "the pasted key is not echoed"
fi

finish
