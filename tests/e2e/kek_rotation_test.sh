#!/usr/bin/env bash
# x420 kek rotate (issue 5): a new master key with every data key, the hashing key and every
# upstream secret rewrapped in one transaction; API keys keep verifying, stored conversations
# keep opening (their ciphertext untouched), upstream secrets still reach the upstream. Killed
# with SIGKILL at each step, the store still opens with the old key or the new one, never a mix,
# and nothing is lost.
source "$(dirname "$0")/lib.sh"

rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
UPSTREAM_SECRET="sk-up-$(rand 24)"
PROMPT="rotation-prompt-$(rand 12)"
start_mock_upstream || { finish; exit 1; }

expect_exit 0 "init" x420 init -q
expect_exit 0 "upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
expect_exit 0 "key" x420 keys create --name main --store-conversations -q
KEY=$OUT
expect_exit 0 "tenant" x420 tenants create second -q
expect_exit 0 "second's upstream" env KEY="$UPSTREAM_SECRET-2" "$X420_BIN" upstreams add mock --tenant second \
  --kind openai --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'

# One request through the proxy: checks the upstream secret still opens (the mock records a
# hash of the credential it received) and stores a conversation to read back.
proxy_round() {  # CONVERSATION
  start_serve || return 1
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $KEY" \
    -H "x420-conversation-id: $1" "$URL/v1/chat/completions" \
    -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"$PROMPT $1\"}]}")
  kill -TERM "$SERVE_PID"
  local status=0
  wait "$SERVE_PID" 2>/dev/null || status=$?
  [[ $code == 200 ]] || { echo "proxy_round $1: HTTP $code; serve exit $status; out: $(cat "$WORK/serve.out") log:" >&2; cat "$WORK/serve.log" >&2; return 1; }
}
last_credential() { grep '"method"' "$WORK/upstream.jsonl" | tail -1 | jq -r .auth.authorization; }

proxy_round before && pass || fail "a request before any rotation"
CREDENTIAL=$(last_credential)
SEALED_BEFORE=$(sqlite3 "$DB" "SELECT hex(sealed) FROM conversation_records ORDER BY id")
cp "$MASTER_KEY" "$WORK/key.0"

# everything_intact DESCRIPTION: the store opens, the key verifies, the conversation decrypts,
# both tenants' data keys open, and the ciphertext is byte for byte what it was.
everything_intact() {
  expect_exit 0 "$1: the key verifies" x420 keys verify <<<"$KEY"
  expect_exit 0 "$1: the conversation opens" x420 history show before
  expect_contains "$OUT" "$PROMPT before" "$1: its text"
  expect_exit 0 "$1: the second tenant's data opens" x420 history list --tenant second
  expect_eq "$(sqlite3 "$DB" "SELECT hex(sealed) FROM conversation_records WHERE conversation_id = 'before' ORDER BY id")" \
    "$SEALED_BEFORE" "$1: stored records are not re-encrypted"
}

# crash_at POINT: runs kek rotate, stops it at POINT and kills it with SIGKILL.
crash_at() {
  X420_TEST_PAUSE_AT=$1 "$X420_BIN" kek rotate >"$WORK/rotate.out" 2>"$WORK/rotate.err" &
  local pid=$! i
  for ((i = 0; i < 100; i++)); do
    grep -q "paused at $1" "$WORK/rotate.err" && break
    sleep 0.1
  done
  grep -q "paused at $1" "$WORK/rotate.err" && pass || fail "kek rotate reached $1: $(cat "$WORK/rotate.err")"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
}

# Killed after writing the new key, before the transaction: the store stays on the old key.
crash_at key-written
[[ -e $MASTER_KEY.new ]] && pass || fail "key-written: the new key was written beside the old"
cmp -s "$MASTER_KEY" "$WORK/key.0" && pass || fail "key-written: the key file is unchanged"
everything_intact "killed after key-written"

# Killed inside the transaction: rolled back, still the old key.
crash_at in-transaction
cmp -s "$MASTER_KEY" "$WORK/key.0" && pass || fail "in-transaction: the key file is unchanged"
everything_intact "killed in the transaction"

# Killed after the commit, before the rename: the next open finishes the rotation.
crash_at committed
cp "$MASTER_KEY.new" "$WORK/key.1"
cmp -s "$MASTER_KEY" "$WORK/key.0" && pass || fail "committed: the rename had not happened yet"
everything_intact "killed after the commit"
cmp -s "$MASTER_KEY" "$WORK/key.1" && pass || fail "committed: opening the store finished the rename"
[[ ! -e $MASTER_KEY.new ]] && pass || fail "committed: no .new left"
cp "$WORK/key.0" "$MASTER_KEY"
expect_exit 3 "the old key no longer opens the store" x420 keys list
cp "$WORK/key.1" "$MASTER_KEY"

# A whole rotation.
expect_exit 0 "kek rotate" x420 kek rotate --json
expect_eq "$(json_field "$OUT" tenants_rewrapped)" "2" "both tenants' data keys rewrapped"
expect_eq "$(json_field "$OUT" upstreams_rewrapped)" "2" "both upstream secrets rewrapped"
expect_eq "$(stat -c %a "$MASTER_KEY")" "600" "the new key file is private"
cmp -s "$MASTER_KEY" "$WORK/key.1" && fail "the key file changed" || pass
everything_intact "after a whole rotation"
proxy_round after && pass || fail "a request after the rotations"
expect_eq "$(last_credential)" "$CREDENTIAL" "the upstream got the same secret, unwrapped with the new key"

# Issue 10: a running serve picks the rotation up with no failed request: by noticing the
# store's KEK id (within a second), or on SIGHUP.
start_serve || { finish; exit 1; }
codes=$WORK/codes
for ((i = 0; i < 40; i++)); do
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -H "Authorization: Bearer $KEY" \
    "$URL/v1/chat/completions" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"during"}]}' >>"$codes"
  sleep 0.05
done &
traffic=$!
sleep 0.5
expect_exit 0 "kek rotate while serve runs" x420 kek rotate
wait "$traffic"
expect_eq "$(sort -u "$codes" | tr '\n' ' ')" "200 " "every request during the rotation succeeded ($(wc -l <"$codes") sent)"
for ((i = 0; i < 30; i++)); do grep -q "now using the new one" "$WORK/serve.log" && break; sleep 0.1; done
expect_contains "$(cat "$WORK/serve.log")" "now using the new one" "serve adopted the new key"
expect_not_contains "$(cat "$WORK/serve.log")" "restart x420 serve" "no request asked for a restart"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
X420_KEK_WATCH_SECONDS=0 start_serve || { finish; exit 1; }
expect_exit 0 "kek rotate again" x420 kek rotate
sleep 1.5
expect_not_contains "$(cat "$WORK/serve.log")" "now using the new one" "with the watch off, nothing changes by itself"
kill -HUP "$SERVE_PID"
for ((i = 0; i < 30; i++)); do grep -q "now using the new one" "$WORK/serve.log" && break; sleep 0.1; done
expect_contains "$(cat "$WORK/serve.log")" "now using the new one" "SIGHUP adopts the new key"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $KEY" \
  "$URL/v1/chat/completions" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"after hup"}]}')
expect_eq "$code" 200 "a request after SIGHUP"
expect_eq "$(last_credential)" "$CREDENTIAL" "the same upstream secret after both rotations"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
sleep 0.5
expect_eq "$(sqlite3 "$DB" "SELECT last_used_at IS NOT NULL AND last_used_at >= strftime('%s','now') - 120 FROM api_keys WHERE name = 'main'")" 1 \
  "the key's last_used_at is recorded"

# Refusals.
X420_MASTER_KEY=$(cat "$MASTER_KEY") expect_exit 2 "refused with the key in the environment" x420 kek rotate
expect_contains "$ERR" "X420_MASTER_KEY" "the error says why"
X420_TOKEN=x420m_nothing expect_exit 2 "refused against a service" x420 kek rotate --server http://127.0.0.1:9
finish
