#!/usr/bin/env bash
# Redaction outside the body and across keys (issue 11): a placeholder is restored only in replies
# to the key that sent its secret (not to another key of the tenant, not after the key is revoked,
# not to a tenant made again under a deleted one's name); "x420:allow" in request content does not
# stop redaction; the query string and the forwarded headers are redacted like the body (refused in
# block mode); a secret-shaped model is refused and kept out of the store, the log and the metrics;
# the access log names routes, never the path sent; an image (a payload that cannot be scanned) is
# forwarded or refused by the key's --unscanned-payloads. The mock upstream's record (path, query,
# headers, body) and serve's stderr are searched for every secret.
source "$(dirname "$0")/lib.sh"

rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
aws() { echo "AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"; }
SECRET=$(aws)      # key A's
ALLOWED=$(aws)     # next to an x420:allow marker
IN_QUERY=$(aws)
IN_HEADER=$(aws)
IN_ACCEPT=$(aws)
AS_MODEL=$(aws)
IN_PATH=$(aws)
ACME=$(aws)        # the deleted tenant's
ALL_SECRETS=("$SECRET" "$ALLOWED" "$IN_QUERY" "$IN_HEADER" "$IN_ACCEPT" "$AS_MODEL" "$IN_PATH" "$ACME")
start_mock_upstream || { finish; exit 1; }

expect_exit 0 "init" x420 init -q
add_upstream() {  # TENANT
  expect_exit 0 "upstream for $1" env KEY="sk-up-$(rand 20)" "$X420_BIN" --tenant "$1" upstreams add mock --kind openai \
    --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
}
add_upstream default
expect_exit 0 "key A" x420 keys create --name a -q
KEY_A=$OUT
expect_exit 0 "key B" x420 keys create --name b -q
KEY_B=$OUT
expect_exit 0 "a block key" x420 keys create --name blocker --redact block -q
KEY_BLOCK=$OUT
expect_exit 0 "a key with its own unscanned-payload policy" x420 keys create --name strict --unscanned-payloads refuse -q
KEY_STRICT=$OUT
expect_exit 0 "keys show --json" x420 keys show "${OUT:5:12}" --json
expect_eq "$(json_field "$OUT" unscanned_payloads)" "refuse" "the key's policy is stored and shown"
expect_exit 0 "keys list" x420 keys list
expect_contains "$OUT" "unscanned=refuse" "keys list shows it with the limits"
expect_exit 2 "an unknown policy is refused" x420 keys create --name bad --unscanned-payloads sometimes
expect_exit 2 "serve refuses an unknown policy" x420 serve --unscanned-payloads sometimes
expect_exit 0 "tenant acme" x420 tenants create acme -q
add_upstream acme
expect_exit 0 "acme's key" x420 --tenant acme keys create --name old -q
KEY_ACME=$OUT
start_serve || { finish; exit 1; }

chat() {  # KEY TEXT [CURL OPTIONS...]: the reply's content, or its error message
  local key=$1 text=$2
  shift 2
  local reply
  reply=$(curl -s --max-time 20 -H "Authorization: Bearer $key" -H "content-type: application/json" "$@" \
    "$URL/v1/chat/completions${QUERY:-}" \
    -d "$(jq -nc --arg t "$text" --arg m "${MODEL:-gpt-4o}" '{model:$m,messages:[{role:"user",content:$t}]}')")
  jq -r '.choices[0].message.content // .error.message' <<<"$reply"
}
requests() { grep -c '"method"' "$WORK/upstream.jsonl" || true; }
last_record() { grep '"method"' "$WORK/upstream.jsonl" | tail -1; }
placeholder_of() { grep -o 'X420_REDACTED_aws_access_key_id_[0-9a-f]*' <<<"$1" | head -1; }

# (a) Key A gets its secret back; key B sending A's placeholder gets the placeholder.
expect_eq "$(chat "$KEY_A" "deploy with $SECRET please")" "deploy with $SECRET please" "key A: restored"
PLACEHOLDER=$(placeholder_of "$(last_record | jq -r .body)")
[[ -n $PLACEHOLDER ]] && pass || fail "the upstream got a placeholder for A's secret"
OUT=$(chat "$KEY_B" "what is $PLACEHOLDER")
expect_eq "$OUT" "what is $PLACEHOLDER" "key B: A's placeholder passes unrestored"
expect_not_contains "$OUT" "$SECRET" "key B never sees A's secret"
OUT=$(chat "$KEY_B" "mine too: $SECRET")
expect_eq "$OUT" "mine too: $SECRET" "key B: its own copy of the secret is restored for it"

# x420:allow in content does not stop the proxy's redaction.
OUT=$(chat "$KEY_A" "key $ALLOWED # x420:allow")
expect_not_contains "$(last_record | jq -r .body)" "$ALLOWED" "allow marker: the upstream got no secret"
expect_contains "$(last_record | jq -r .body)" "X420_REDACTED_aws_access_key_id_" "allow marker: redacted as usual"

# The query string and the forwarded headers, redacted (and restored nowhere upstream).
QUERY="?api-version=2024-10-21&token=$IN_QUERY" chat "$KEY_A" "hello" -H "openai-organization: org $IN_HEADER" \
  -H "x-stainless-lang: python" -H "accept: application/json; k=$IN_ACCEPT" >/dev/null
RECORD=$(last_record)
expect_contains "$(jq -r .query <<<"$RECORD")" "api-version=2024-10-21&token=X420_REDACTED_aws_access_key_id_" "query: redacted in place"
expect_contains "$(jq -r '.headers["openai-organization"]' <<<"$RECORD")" "org X420_REDACTED_aws_access_key_id_" "header: redacted in place"
expect_eq "$(jq -r '.headers["x-stainless-lang"]' <<<"$RECORD")" "python" "a header without a secret passes as is"
expect_contains "$(jq -r '.headers.accept' <<<"$RECORD")" "application/json; k=X420_REDACTED_" "Accept: redacted in place"
# ... and refused in block mode, naming where and not what.
BEFORE=$(requests)
OUT=$(chat "$KEY_BLOCK" "hello" -H "openai-organization: $IN_HEADER")
expect_contains "$OUT" "in header openai-organization" "block: a secret in a header is refused naming it"
expect_not_contains "$OUT" "$IN_HEADER" "block: the refusal does not quote it"
OUT=$(QUERY="?token=$IN_QUERY" chat "$KEY_BLOCK" "hello")
expect_contains "$OUT" "in the query string" "block: a secret in the query is refused naming it"
expect_eq "$(requests)" "$BEFORE" "block: nothing forwarded"

# A model that looks like a secret: 400, in no usage row, log line or metric.
OUT=$(MODEL=$AS_MODEL chat "$KEY_A" "hello")
expect_contains "$OUT" "\`model\` looks like a secret (rule aws.access_key_id)" "model: refused"
expect_not_contains "$OUT" "$AS_MODEL" "model: the refusal does not quote it"
expect_eq "$(requests)" "$BEFORE" "model: nothing forwarded"

# An image cannot be scanned: forwarded for a key that takes the server's default, refused for
# one that refuses them; counted either way.
IMAGE='{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo"}}]}]}'
image() { curl -s --max-time 20 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" -H "content-type: application/json" "$URL/v1/chat/completions" -d "$IMAGE"; }
expect_eq "$(image "$KEY_A")" "200" "unscanned payload: forwarded by default"
BEFORE=$(requests)
expect_eq "$(image "$KEY_STRICT")" "400" "unscanned payload: refused for a key that refuses them"
expect_eq "$(requests)" "$BEFORE" "unscanned payload: the refused request was not forwarded"

# A secret in the path: a 404, and the log names the route "other".
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/$IN_PATH?x=$IN_QUERY")" "404" "unknown path: 404"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/x420/v1/tenants/$IN_PATH/keys")" "401" "admin path without a token: 401"
METRICS=$(curl -s "$URL/metrics")
expect_contains "$METRICS" 'x420_requests_total{route="other",status="404"} 1' "metrics: the unknown path counted as other"
expect_contains "$METRICS" 'x420_unscanned_payloads_total{action="forwarded"} 1' "metrics: the forwarded image counted"
expect_contains "$METRICS" 'x420_unscanned_payloads_total{action="refused"} 1' "metrics: the refused image counted"

# (b) A deleted tenant's placeholder means nothing to a tenant made again under its name.
expect_eq "$(chat "$KEY_ACME" "acme uses $ACME")" "acme uses $ACME" "acme: restored before the delete"
ACME_PLACEHOLDER=$(placeholder_of "$(last_record | jq -r .body)")
expect_exit 0 "account delete (another process)" x420 account delete --tenant acme --yes
sleep 1.5  # the sweep's second
expect_exit 0 "tenant acme again" x420 tenants create acme -q
add_upstream acme
expect_exit 0 "the new acme's key" x420 --tenant acme keys create --name new -q
KEY_NEW_ACME=$OUT
expect_eq "$(chat "$KEY_ACME" "hi")" "invalid API key" "the old acme's key is refused"
OUT=$(chat "$KEY_NEW_ACME" "replay $ACME_PLACEHOLDER")
expect_eq "$OUT" "replay $ACME_PLACEHOLDER" "new acme: the old placeholder is not restored"
expect_not_contains "$OUT" "$ACME" "new acme never sees the old tenant's secret"

# Revoke key A (another process); a new key of the tenant replays A's placeholder.
expect_exit 0 "revoke A" x420 keys revoke "${KEY_A:5:12}"
expect_exit 0 "key C" x420 keys create --name c -q
KEY_C=$OUT
sleep 1.5
expect_eq "$(chat "$KEY_A" "hi")" "invalid API key" "the revoked key is refused"
OUT=$(chat "$KEY_C" "replay $PLACEHOLDER")
expect_eq "$OUT" "replay $PLACEHOLDER" "key C: the revoked key's placeholder is not restored"

# Nothing of any secret left through the upstream, the log, the metrics or the store's usage.
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
sqlite3 "$DB" .dump >"$WORK/dump.sql"
printf '%s' "$METRICS" >"$WORK/metrics.txt"
for s in "${ALL_SECRETS[@]}"; do
  expect_absent_from_files "$s" "a secret" "$WORK/upstream.jsonl" "$WORK/serve.log" "$WORK/metrics.txt" "$WORK/dump.sql"
done
expect_contains "$(cat "$WORK/serve.log")" "GET other 404" "the access log names the unknown route as other"
finish
