#!/usr/bin/env bash
# x420 serve's per-key and per-tenant policies and its handling of connections: a key's own
# redaction mode (block, mask, off) over the server's; a tenant's prepaid balance (402 when the
# worst case cannot be covered, lifted again); keep-alive connections to the upstream reused; a
# client that leaves before the first byte or in the middle of a stream gets its upstream
# request closed and still a usage row; /v1/models; a revoke through the admin API is refused
# at once.
source "$(dirname "$0")/lib.sh"

rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
AWS="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
start_mock_upstream || { finish; exit 1; }

expect_exit 0 "init" x420 init -q
OPERATOR=$OUT
expect_exit 0 "upstream" env KEY="sk-up-$(rand 20)" "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*' fixed-model
for mode in default block mask off; do
  if [[ $mode == default ]]; then expect_exit 0 "key $mode" x420 keys create --name "$mode" -q
  else expect_exit 0 "key $mode" x420 keys create --name "$mode" --redact "$mode" -q; fi
  printf -v "KEY_${mode^^}" '%s' "$OUT"
done
expect_exit 0 "key show names its mode" x420 keys show "${KEY_MASK:5:12}" --json
expect_eq "$(json_field "$OUT" redaction)" "mask" "per-key mode stored"
expect_exit 2 "an unknown mode is refused" x420 keys create --name bad --redact scramble
start_serve || { finish; exit 1; }

body() { printf '{"model":"%s","stream":%s,"messages":[{"role":"user","content":"deploy with %s please"}]}' "$1" "$2" "$AWS"; }
post() { curl -s -N --max-time 20 -H "content-type: application/json" "$@"; }
requests() { grep -c '"method"' "$WORK/upstream.jsonl" || true; }
last_body() { grep '"method"' "$WORK/upstream.jsonl" | tail -1 | jq -r .body; }

# Per-key redaction modes.
BEFORE=$(requests)
OUT=$(post -H "Authorization: Bearer $KEY_BLOCK" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")
expect_contains "$(jq -r .error.message <<<"$OUT")" "aws.access_key_id at byte" "block key: refused naming the rule"
expect_eq "$(requests)" "$BEFORE" "block key: nothing forwarded"
OUT=$(post -H "Authorization: Bearer $KEY_MASK" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")
expect_contains "$(last_body)" "[REDACTED:aws.access_key_id]" "mask key: upstream got the mask"
expect_contains "$(jq -r '.choices[0].message.content' <<<"$OUT")" "[REDACTED:aws.access_key_id]" "mask key: not restored"
OUT=$(post -H "Authorization: Bearer $KEY_OFF" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")
expect_contains "$(last_body)" "$AWS" "off key: forwarded as is"
OUT=$(post -H "Authorization: Bearer $KEY_DEFAULT" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")
expect_contains "$(last_body)" "X420_REDACTED_aws_access_key_id_" "default key: the server's pseudonymize"
expect_eq "$(jq -r '.choices[0].message.content' <<<"$OUT")" "deploy with $AWS please" "default key: restored"

# Keep-alive connections to the upstream are reused.
for i in 1 2 3; do post -o /dev/null -H "Authorization: Bearer $KEY_DEFAULT" "$URL/v1/chat/completions" -d "$(body gpt-4o false)"; done
expect_eq "$(grep '"method"' "$WORK/upstream.jsonl" | tail -3 | jq -r .conn | sort -u | wc -l)" "1" "three requests, one upstream connection"

# Tenant balance: credit smaller than the worst case is a 402; --unlimited lifts it.
expect_exit 0 "credit" x420 tenants credit default --add-usd 0.0001 --json
expect_eq "$(json_field "$OUT" credit_usd)" "0.0001" "credit recorded"
[[ $(json_field "$OUT" spent_usd) != 0 ]] && pass || fail "spend so far shown with the balance"
OUT=$(post -H "Authorization: Bearer $KEY_DEFAULT" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")
expect_eq "$(jq -r .error.type <<<"$OUT")" "insufficient_quota" "402 when the balance cannot cover the worst case"
expect_exit 2 "credit needs an amount or --unlimited" x420 tenants credit default
expect_exit 4 "credit for a tenant that does not exist" x420 tenants credit nobody --add-usd 5
expect_exit 0 "unlimited" x420 tenants credit default --unlimited
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY_DEFAULT" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")" "200" "no balance limit again"

# A client that leaves before the first byte: the upstream request is closed, a 499 row written.
BEFORE=$(grep -c '"client_closed"' "$WORK/upstream.jsonl" || true)
post --max-time 1 -o /dev/null -H "Authorization: Bearer $KEY_DEFAULT" -H 'x-mock-delay-ms: 8000' "$URL/v1/chat/completions" -d "$(body gpt-4o false)" || true
for _ in $(seq 40); do [[ $(grep -c '"client_closed"' "$WORK/upstream.jsonl" || true) -gt $BEFORE ]] && break; sleep 0.1; done
CLOSED=$(grep '"client_closed"' "$WORK/upstream.jsonl" | tail -1)
expect_eq "$(jq -r .bytes_sent <<<"$CLOSED")" "0" "client gone before the first byte: upstream request closed"
# ... and in the middle of a stream.
post --max-time 1 -o /dev/null -H "Authorization: Bearer $KEY_DEFAULT" -H 'x-mock-chunk-delay-ms: 400' "$URL/v1/chat/completions" -d "$(body gpt-4o true)" || true
for _ in $(seq 40); do [[ $(grep -c '"client_closed"' "$WORK/upstream.jsonl" || true) -gt $((BEFORE + 1)) ]] && break; sleep 0.1; done
CLOSED=$(grep '"client_closed"' "$WORK/upstream.jsonl" | tail -1)
[[ $(jq -r .bytes_sent <<<"$CLOSED") -gt 0 ]] && pass || fail "client gone mid-stream: upstream request closed ($CLOSED)"
sleep 0.3
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM usage_events WHERE status = 499 AND error_type = 'client_closed'")" "2" "both left requests have a usage row"

# /v1/models: concrete ids only. The upstream's own list (as mock/id; none of its ids match gpt-*),
# and the literal glob, alone and as mock/fixed-model; the wildcard glob is no model.
OUT=$(curl -s -H "Authorization: Bearer $KEY_DEFAULT" "$URL/v1/models")
expect_eq "$(jq -r '[.data[].id] | sort | join(",")' <<<"$OUT")" \
  "fixed-model,mock/fixed-model,mock/mock-claude,mock/mock-embedding,mock/mock-gpt" "models: concrete ids"
expect_eq "$(jq -r '[.data[].id | select(test("[*?\\[]"))] | length' <<<"$OUT")" "0" "models: no glob is listed"

# A revoke through this service's admin API is refused at once (no key-cache second).
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY_OFF" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")" "200" "key works before revoke"
expect_exit 0 "revoke over --server" env X420_TOKEN="$OPERATOR" "$X420_BIN" --server "$URL" keys revoke "${KEY_OFF:5:12}"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY_OFF" "$URL/v1/chat/completions" -d "$(body gpt-4o false)")" "401" "revoked through the service: refused at once"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
expect_eq "$?" "0" "serve exits 0 on SIGTERM"
finish
