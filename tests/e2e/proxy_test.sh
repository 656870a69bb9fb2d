#!/usr/bin/env bash
# x420 serve end to end: a real proxy in front of the mock upstream, driven with curl. Canary
# secrets of several kinds go in; the upstream must receive none of them, the client must get
# them back restored (streamed replies included), and afterwards no canary and no prompt text
# may be in the database, its WAL or the proxy's log. Also the refusals: 401, 404, 405, 400,
# 413, 502, a revoke seen within a second.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { fail "node is needed for the mock upstream (apt-get install nodejs)"; finish; }

rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
AWS="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
GH="ghp_$(rand 36)"
ANT="sk-ant-api03-$(rand 93)AA"
PROMPT_CANARY="canary-prompt-$(rand 24)"
CANARIES=("$AWS" "$GH" "$ANT")
UPSTREAM_SECRET="sk-upstream-$(rand 30)"

start_listener "$WORK/mock.out" "$WORK/mock.err" node "$X420_SOURCE_DIR/tests/mock_upstream/server.js" \
  --port 0 --record "$WORK/upstream.jsonl" --max-seconds 180 || { finish; exit 1; }
MOCK=$PORT

expect_exit 0 "init" x420 init -q
expect_exit 0 "openai upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
expect_exit 0 "anthropic upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add amock --kind anthropic \
  --base-url "http://127.0.0.1:$MOCK" --api-key-env KEY --models 'claude-*'
expect_exit 0 "dead upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add dead --kind openai \
  --base-url "http://127.0.0.1:9/v1" --api-key-env KEY
expect_exit 0 "key" x420 keys create --name proxy-test -q
KEY=$OUT

start_listener "$WORK/serve.out" "$WORK/serve.log" "$X420_BIN" serve --listen 127.0.0.1:0 --max-body-mb 1 || { finish; exit 1; }
SERVE=$PORT
SERVE_PID=$LAST_PID
URL="http://127.0.0.1:$SERVE"

content="$PROMPT_CANARY: debug this please. aws $AWS github $GH anthropic $ANT end"
chat_body() { printf '{"model":"%s","stream":%s,"messages":[{"role":"user","content":"%s"}]}' "$1" "$2" "$content"; }
post() { curl -s -N --max-time 20 -H "content-type: application/json" "$@"; }

# Non-streaming chat: restored reply, redacted upstream body.
OUT=$(post -D "$WORK/headers" -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")
REPLY=$(jq -r '.choices[0].message.content' <<<"$OUT")
expect_eq "$REPLY" "$content" "chat reply restored"
expect_contains "$(cat "$WORK/headers")" "x420-redactions: 3" "x420-redactions header"

# Classes: secrets, cards and national numbers are redacted by default; identifiers and contact
# data (a phone number, an IP address) reach the upstream as they are.
PERSONAL="ssn 536-22-8746 card 4787789328792170 phone 030 2847 5913 from ip 81.2.69.142 key $AWS"
OUT=$(post -D "$WORK/headers" -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" \
  -d "$(printf '{"model":"gpt-4o","messages":[{"role":"user","content":"%s"}]}' "$PERSONAL")")
expect_eq "$(jq -r '.choices[0].message.content' <<<"$OUT")" "$PERSONAL" "reply restored, personal data too"
expect_contains "$(cat "$WORK/headers")" "x420-redactions: 3" "three redactions: the SSN, the card and the key"
SENT=$(tail -1 "$WORK/upstream.jsonl")
expect_not_contains "$SENT" "536-22-8746" "no SSN upstream"
expect_not_contains "$SENT" "4787789328792170" "no card number upstream"
expect_contains "$SENT" "030 2847 5913" "a phone number passes unless asked"
expect_contains "$SENT" "81.2.69.142" "an IP address passes unless asked"
# Asked: serve --redact-personal redacts them too, and the reply still reads as sent.
start_listener "$WORK/serve2.out" "$WORK/serve2.log" "$X420_BIN" serve --listen 127.0.0.1:0 --redact-personal ||
  { finish; exit 1; }
OUT=$(post -D "$WORK/headers" -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/chat/completions" \
  -d "$(printf '{"model":"gpt-4o","messages":[{"role":"user","content":"%s"}]}' "$PERSONAL")")
expect_eq "$(jq -r '.choices[0].message.content' <<<"$OUT")" "$PERSONAL" "--redact-personal: reply restored"
expect_contains "$(cat "$WORK/headers")" "x420-redactions: 5" "--redact-personal: the phone and the IP address too"
SENT=$(tail -1 "$WORK/upstream.jsonl")
expect_not_contains "$SENT" "030 2847 5913" "--redact-personal: no phone number upstream"
expect_not_contains "$SENT" "81.2.69.142" "--redact-personal: no IP address upstream"
# A key decides for itself: --keep-personal on that server lets contact data through (never
# the SSN, the card or the key) ...
expect_exit 0 "key that keeps personal data" x420 keys create --name keep --keep-personal -q
KEEP_KEY=$OUT
OUT=$(post -D "$WORK/headers" -H "Authorization: Bearer $KEEP_KEY" "http://127.0.0.1:$PORT/v1/chat/completions" \
  -d "$(printf '{"model":"gpt-4o","messages":[{"role":"user","content":"%s"}]}' "$PERSONAL")")
kill "$LAST_PID" 2>/dev/null
expect_contains "$(cat "$WORK/headers")" "x420-redactions: 3" "--keep-personal key: only the SSN, the card and the key"
SENT=$(tail -1 "$WORK/upstream.jsonl")
expect_contains "$SENT" "030 2847 5913" "--keep-personal key: its phone number passes"
expect_not_contains "$SENT" "4787789328792170" "--keep-personal key: never a card number"
# ... and --redact-personal on the default server redacts e-mail addresses and international
# phone numbers, which the server's other keys send as they are.
CONTACT="mail jane.doe@acme-corp.com or +44 20 7946 0958, ssn 536-22-8746 card 4787789328792170 key $AWS"
contact_body=$(printf '{"model":"gpt-4o","messages":[{"role":"user","content":"%s"}]}' "$CONTACT")
OUT=$(post -D "$WORK/headers" -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d "$contact_body")
expect_contains "$(cat "$WORK/headers")" "x420-redactions: 3" "default key: e-mail and phone pass"
SENT=$(tail -1 "$WORK/upstream.jsonl")
expect_contains "$SENT" "jane.doe@acme-corp.com" "default key: the e-mail address passes"
expect_exit 0 "key that redacts personal data" x420 keys create --name careful --redact-personal -q
CAREFUL_KEY=$OUT
expect_contains "$("$X420_BIN" keys list)" "personal=redact" "keys list shows the key's setting"
OUT=$(post -D "$WORK/headers" -H "Authorization: Bearer $CAREFUL_KEY" "$URL/v1/chat/completions" -d "$contact_body")
expect_eq "$(jq -r '.choices[0].message.content' <<<"$OUT")" "$CONTACT" "--redact-personal key: reply restored"
expect_contains "$(cat "$WORK/headers")" "x420-redactions: 5" "--redact-personal key: the e-mail address and the phone too"
SENT=$(tail -1 "$WORK/upstream.jsonl")
expect_not_contains "$SENT" "jane.doe@acme-corp.com" "--redact-personal key: no e-mail address upstream"
expect_not_contains "$SENT" "7946 0958" "--redact-personal key: no phone number upstream"

# Streaming chat: placeholders split across 7-character deltas come back whole.
OUT=$(post -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o true)")
STREAMED=$(grep '^data: {' <<<"$OUT" | sed 's/^data: //' | jq -rj '.choices[0].delta.content // empty')
expect_eq "$STREAMED" "$content" "streamed chat restored"
expect_contains "$OUT" "data: [DONE]" "stream ends with [DONE]"

# Anthropic streaming, by x-api-key.
OUT=$(post -H "x-api-key: $KEY" "$URL/v1/messages" -d "$(printf '{"model":"claude-3-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"%s"}]}' "$content")")
STREAMED=$(grep '^data: {' <<<"$OUT" | sed 's/^data: //' | jq -rj 'select(.type=="content_block_delta") | .delta.text // empty')
expect_eq "$STREAMED" "$content" "streamed messages restored"
expect_contains "$OUT" "event: message_stop" "anthropic event sequence kept"

# Routing by upstream/model.
OUT=$(post -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d "$(chat_body mock/custom-model false)")
expect_eq "$(jq -r .model <<<"$OUT")" "custom-model" "upstream/model routes and strips the prefix"

# What the upstream received: no canary secret, its own key, never the client's.
for c in "${CANARIES[@]}"; do
  expect_absent_from_files "$c" "canary secret upstream" "$WORK/upstream.jsonl"
done
expect_absent_from_files "$KEY" "the client's x420 key upstream" "$WORK/upstream.jsonl"
WANT_AUTH=$(printf 'Bearer %s' "$UPSTREAM_SECRET" | sha256sum | cut -d' ' -f1)
expect_eq "$(head -1 "$WORK/upstream.jsonl" | jq -r .auth_sha256)" "$WANT_AUTH" "upstream got its own key"
grep -q 'X420_REDACTED_aws_access_key_id_' "$WORK/upstream.jsonl" && pass || fail "upstream got placeholders"

# Refusals, in the caller's shape.
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/chat/completions" -d '{}')" "401" "no key"
OUT=$(post -H "x-api-key: x420_AAAAAAAAAAAA_$(rand 38)" "$URL/v1/messages" -d '{}')
expect_eq "$(jq -r .type <<<"$OUT")/$(jq -r .error.type <<<"$OUT")" "error/authentication_error" "anthropic-shaped 401"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/nothing")" "404" "unknown route"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions")" "405" "GET on a POST route"
OUT=$(post -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d '{"model": "gpt-4o", "messages": [')
expect_eq "$(jq -r .error.type <<<"$OUT")" "invalid_request_error" "malformed JSON is a 400"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$WORK/big.json"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" -H 'content-type: application/json' --data-binary @"$WORK/big.json" "$URL/v1/chat/completions")" "413" "body over the limit"
printf '{"a":' >"$WORK/deep.json"; head -c 100000 /dev/zero | tr '\0' '[' >>"$WORK/deep.json"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" --data-binary @"$WORK/deep.json" "$URL/v1/chat/completions")" "400" "nesting bomb is a 400"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d "$(chat_body dead/gpt-4o false)")" "502" "upstream down"
# The log names the cause of a 5xx: here the refused connect, in the system's words.
# (The line is written once the reply has gone: wait for it.)
for _ in $(seq 50); do grep -q 'upstream=dead' "$WORK/serve.log" && break; sleep 0.1; done
grep -q 'upstream=dead .*cause="the upstream could not be reached (Connection refused)"' "$WORK/serve.log" && pass ||
  fail "the log names why the upstream failed: $(grep 'upstream=dead' "$WORK/serve.log")"
# And the start summary named the store, the policies, the rules and the upstreams.
for said in "serve: store $DB" "redaction pseudonymize" "rules: " "upstreams: " "default/mock (openai, http://127.0.0.1:$MOCK/v1, gpt-*)"; do
  expect_contains "$(cat "$WORK/serve.log")" "$said" "the start summary says '$said'"
done
OUT=$(post -H "Authorization: Bearer $KEY" -H 'x-mock-status: 500' "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")
expect_not_contains "$OUT" "$UPSTREAM_SECRET" "upstream error bodies never carry the upstream key"
for c in "${CANARIES[@]}"; do expect_not_contains "$OUT" "$c" "upstream error body redacted"; done

# Limits: rpm gives 429 with Retry-After; a spend cap that cannot cover the worst case gives 402.
expect_exit 0 "rate-limited key" x420 keys create --name slow --rpm 2 -q
SLOW=$OUT
for i in 1 2; do
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SLOW" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")" "200" "request $i within rpm"
done
CODE=$(curl -s -D "$WORK/h429" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SLOW" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")
expect_eq "$CODE" "429" "third request over rpm"
grep -qi '^retry-after: [0-9]' "$WORK/h429" && pass || fail "429 carries Retry-After"
expect_exit 0 "capped key" x420 keys create --name poor --cap-usd 0.0001 -q
POOR=$OUT
OUT=$(post -H "Authorization: Bearer $POOR" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")
expect_eq "$(jq -r .error.type <<<"$OUT")" "insufficient_quota" "402 when the cap cannot cover the request"
expect_exit 0 "a key with room" x420 keys create --name rich --cap-usd 5 -q
RICH=$OUT
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $RICH" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")" "200" "a cap with room forwards"
sleep 0.3
COST=$(sqlite3 "$DB" "SELECT cost_usd_micros FROM usage_events WHERE key_id = '${RICH:5:12}' AND status = 200")
[[ ${COST:-0} -gt 0 ]] && pass || fail "the request's cost is settled in its usage row ($COST)"
UPSTREAM_REQUESTS=$(wc -l <"$WORK/upstream.jsonl")

# A revoke from another process is refused within a second.
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")" "200" "key works before revoke"
expect_exit 0 "revoke" x420 keys revoke "${KEY:5:12}"
sleep 1.2
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" -d "$(chat_body gpt-4o false)")" "401" "revoked key refused within a second"
expect_eq "$(wc -l <"$WORK/upstream.jsonl")" "$((UPSTREAM_REQUESTS + 1))" "refused requests never reach the upstream"

# Usage rows: one per request, metadata only.
ROWS=$(sqlite3 "$DB" "SELECT count(*) FROM usage_events WHERE status = 200 AND input_tokens > 0 AND output_tokens > 0")
[[ $ROWS -ge 4 ]] && pass || fail "usage rows with token counts for the successful requests (got $ROWS)"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM usage_events WHERE status = 200 AND redactions NOT IN (3, 5)")" "0" "every forwarded request records its 3 redactions"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM usage_events WHERE status = 200 AND redactions = 5")" "2" "and the two that redact personal data their 5"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
expect_eq "$?" "0" "serve exits 0 on SIGTERM"

# Nothing of the prompts or secrets in the database, its WAL or the log.
for c in "${CANARIES[@]}" "$PROMPT_CANARY" "$UPSTREAM_SECRET" "$KEY"; do
  expect_absent_from_files "$c" "canary at rest" "$DB" "$DB-wal" "$WORK/serve.log"
done
finish
