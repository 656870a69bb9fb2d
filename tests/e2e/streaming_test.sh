#!/usr/bin/env bash
# Issue 10: the proxy on traffic shaped like a real provider's. Events spread over time reach the
# client as they leave the upstream (within 50 ms each, for chat, Responses and Anthropic
# streams); keep-alive comments pass; LF, CRLF and CR line ends and reads split at every byte
# all restore; a stream cut mid-way is delivered and ends cleanly; a gzip reply is refused;
# deep nesting and odd event shapes neither crash nor hang the proxy; restored tool-call
# arguments parse even when the secret holds a newline, a quote, a backslash, a slash or
# non-ASCII; finish_reason comes once, after all text; fields of the wrong type are a 400.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { fail "node is needed for the mock upstream (apt-get install nodejs)"; finish; }

CLIENT="$X420_SOURCE_DIR/tests/e2e/stream_client.mjs"
rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
AWS="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
# Known secrets (serve --known-env) with every character that needs escaping, at both levels of
# tool-call arguments.
export TRICKY_SECRET="tr1cky\"quote\\back/slash-ünï-$(rand 12)"
export PEM_SECRET="-----BEGIN TEST KEY-----
$(rand 40)
$(rand 40)
-----END TEST KEY-----"

start_mock_upstream || { finish; exit 1; }
expect_exit 0 "init" x420 init -q
expect_exit 0 "openai upstream" env KEY=sk-up "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
expect_exit 0 "anthropic upstream" env KEY=sk-up "$X420_BIN" upstreams add amock --kind anthropic \
  --base-url "http://127.0.0.1:$MOCK" --api-key-env KEY --models 'claude-*'
expect_exit 0 "key" x420 keys create --name streaming -q
KEY=$OUT
start_serve --known-env TRICKY_SECRET --known-env PEM_SECRET || { finish; exit 1; }

content="check aws $AWS then stop"
body_file() { printf '%s' "$1" >"$WORK/body.json"; echo "$WORK/body.json"; }
chat() {  # STREAM(true|false) CONTENT [TOOLS]: a chat body
  jq -nc --argjson s "$1" --arg c "$2" --argjson tools "${3:-null}" \
    '{model:"gpt-4o",stream:$s,messages:[{role:"user",content:$c}]} + (if $tools then {tools:$tools} else {} end)'
}
responses() {
  jq -nc --argjson s "$1" --arg c "$2" --argjson tools "${3:-null}" \
    '{model:"gpt-4o",stream:$s,input:$c} + (if $tools then {tools:$tools} else {} end)'
}
messages() {
  jq -nc --argjson s "$1" --arg c "$2" --argjson tools "${3:-null}" \
    '{model:"claude-3-5",max_tokens:100,stream:$s,messages:[{role:"user",content:$c}]} + (if $tools then {tools:$tools} else {} end)'
}
stream() {  # PATH BODY [HEADER...]: the client's view, as stream_client.mjs reports it
  local path=$1 body=$2
  shift 2
  node "$CLIENT" "$URL$path" "$(body_file "$body")" "Authorization: Bearer $KEY" "$@"
}
chat_text() { jq -rj '.events[].data | fromjson? | .choices[0]? | (.delta.content // empty)' <<<"$1"; }
messages_text() { jq -rj '.events[].data | fromjson? | select(.type=="content_block_delta") | .delta.text // empty' <<<"$1"; }
responses_text() { jq -rj '.events[].data | fromjson? | select(.type=="response.output_text.delta") | .delta' <<<"$1"; }

# 1. Each event reaches the client within 50 ms of leaving the upstream, and events arrive spread
#    out as they were sent, not together at the end.
for api in chat responses messages; do
  case $api in
    chat) path=/v1/chat/completions body=$(chat true "$content") ;;
    responses) path=/v1/responses body=$(responses true "$content") ;;
    messages) path=/v1/messages body=$(messages true "$content") ;;
  esac
  OUT=$(stream "$path" "$body" "x-mock-chunk-delay-ms: 150" "x-mock-timestamps: 1" "x-mock-chunk-size: 5")
  expect_eq "$(jq -r '.status' <<<"$OUT")" 200 "$api: timed stream status"
  stamped=$(jq '[.events[] | select(.latency_ms != null)] | length' <<<"$OUT")
  worst=$(jq '[.events[] | select(.latency_ms != null) | .latency_ms] | max' <<<"$OUT")
  spread=$(jq '(.events | map(.at_ms) | max) - (.events | map(.at_ms) | min)' <<<"$OUT")
  echo "$api: $stamped stamped events, worst latency ${worst} ms, spread ${spread} ms"
  if [[ $stamped -ge 5 ]] && jq -e "$worst <= 50" >/dev/null <<<"null"; then pass; else fail "$api: an event took ${worst} ms to pass the proxy ($stamped stamped)"; fi
  if jq -e "$spread >= 150 * ($stamped - 2)" >/dev/null <<<"null"; then pass; else fail "$api: events came together (spread $spread ms)"; fi
  case $api in
    chat) expect_eq "$(chat_text "$OUT")" "$content" "chat: timed stream restored" ;;
    responses) expect_eq "$(responses_text "$OUT")" "$content" "responses: timed stream restored" ;;
    messages) expect_eq "$(messages_text "$OUT")" "$content" "messages: timed stream restored" ;;
  esac
done

# 2. Keep-alive comments pass through.
OUT=$(stream /v1/chat/completions "$(chat true "$content")" "x-mock-keepalive: 1")
expect_contains "$(jq -r .raw <<<"$OUT")" ": ping" "keep-alive comments reach the client"
expect_eq "$(chat_text "$OUT")" "$content" "stream with keep-alives restored"

# 3. CRLF and CR line ends, and reads split at every byte.
for ends in crlf cr; do
  OUT=$(stream /v1/chat/completions "$(chat true "$content")" "x-mock-line-ends: $ends")
  expect_eq "$(chat_text "$OUT")" "$content" "$ends line ends: split into events and restored"
  OUT=$(stream /v1/messages "$(messages true "$content")" "x-mock-line-ends: $ends")
  expect_eq "$(messages_text "$OUT")" "$content" "$ends line ends: anthropic stream restored"
done
OUT=$(stream /v1/chat/completions "$(chat true "$content")" "x-mock-byte-split: 1" "x-mock-keepalive: 1")
expect_eq "$(chat_text "$OUT")" "$content" "a stream split at every byte is restored"
expect_eq "$(jq '[.events[].data | fromjson? | .choices[0]?.finish_reason // empty] | length' <<<"$OUT")" 1 "byte split: one finish_reason"

# 4. finish_reason once, after all text, also when the last text and the finish share a chunk and
#    the text ends in a placeholder.
ends_in_secret="the key is $AWS"
for mode in separate shared; do
  hdr=()
  [[ $mode == shared ]] && hdr=("x-mock-finish-in-last-delta: 1")
  OUT=$(stream /v1/chat/completions "$(chat true "$ends_in_secret")" "${hdr[@]}")
  expect_eq "$(chat_text "$OUT")" "$ends_in_secret" "finish ($mode): text ending in a placeholder restored"
  expect_eq "$(jq '[.events[].data | fromjson? | .choices[0]?.finish_reason // empty] | length' <<<"$OUT")" 1 \
    "finish ($mode): finish_reason comes once"
  after=$(jq '[.events[].data | fromjson? | .choices[0]?] | (map(.finish_reason != null) | index(true)) as $f
             | [.[($f + 1):][] | (.delta.content // "")] | join("")' <<<"$OUT")
  expect_eq "$after" '""' "finish ($mode): no text after finish_reason"
done
OUT=$(stream /v1/messages "$(messages true "$ends_in_secret")")
expect_eq "$(messages_text "$OUT")" "$ends_in_secret" "anthropic: text ending in a placeholder restored"
last_text_at=$(jq '[.events[].data | fromjson? | .type] | map(. == "content_block_delta") | rindex(true)' <<<"$OUT")
stop_at=$(jq '[.events[].data | fromjson? | .type] | index("content_block_stop")' <<<"$OUT")
if [[ $last_text_at -lt $stop_at ]]; then pass; else fail "anthropic: text after content_block_stop"; fi

# 5. An upstream that closes mid-stream: what arrived is delivered, the stream ends cleanly, the
#    usage row says so.
OUT=$(stream /v1/chat/completions "$(chat true "$content")" "x-mock-close-after-events: 4")
expect_eq "$(jq -r .complete <<<"$OUT")" true "mid-stream close: the client's stream ends cleanly"
# Four events left the upstream; the text held back at the cut comes after them as a delta.
if [[ $(jq '.events | length' <<<"$OUT") -ge 4 ]]; then pass; else fail "mid-stream close: events lost"; fi
got=$(chat_text "$OUT")
expect_eq "${got:0:9}" "check aws" "mid-stream close: the text that arrived is delivered"
GEN=$(jq -r '.headers["x420-generation-id"]' <<<"$OUT")
sleep 0.3
expect_exit 0 "generation row" x420 generation "$GEN" --json
expect_eq "$(jq -r '.error_type' <<<"$OUT")" upstream_stream_broken "mid-stream close: the usage row says so"
if [[ $(jq -r '.output_tokens' <<<"$OUT") -gt 0 ]]; then pass; else fail "mid-stream close: no usage, yet charged nothing"; fi

# 6. A compressed reply the client did not ask for is refused, and the proxy asked for identity.
OUT=$(stream /v1/chat/completions "$(chat false "$content")" "x-mock-gzip: 1")
expect_eq "$(jq -r .status <<<"$OUT")" 502 "gzip reply refused"
expect_contains "$(jq -r .raw <<<"$OUT")" "Content-Encoding: gzip" "the refusal names the encoding"
expect_eq "$(grep -v '"event"' "$WORK/upstream.jsonl" | tail -1 | jq -r '.headers["accept-encoding"]')" identity \
  "the upstream is asked for identity"

# 7. Deep nesting and odd event shapes: passed on, the proxy alive, nothing left in flight.
OUT=$(stream /v1/chat/completions "$(chat true "$content")" "x-mock-deep: 100000")
expect_eq "$(jq -r .status <<<"$OUT")" 200 "a 100,000-deep event does not crash the proxy"
expect_eq "$(chat_text "$OUT")" "$content" "deep event: the real text still restored"
OUT=$(stream /v1/chat/completions "$(chat false "$content")" "x-mock-deep: 100000")
expect_eq "$(jq -r .status <<<"$OUT")" 200 "a 100,000-deep reply does not crash the proxy"
for api in chat messages responses; do
  case $api in
    chat) OUT=$(stream /v1/chat/completions "$(chat true "$content")" "x-mock-odd: 1"); got=$(chat_text "$OUT") ;;
    messages) OUT=$(stream /v1/messages "$(messages true "$content")" "x-mock-odd: 1"); got=$(messages_text "$OUT") ;;
    responses) OUT=$(stream /v1/responses "$(responses true "$content")" "x-mock-odd: 1"); got=$(responses_text "$OUT") ;;
  esac
  expect_eq "$(jq -r .complete <<<"$OUT")" true "$api: odd events: the stream completes"
  expect_eq "$got" "$content" "$api: odd events: the real text restored"
  expect_contains "$(jq -r .raw <<<"$OUT")" "not json at all" "$api: odd events passed on untouched"
done
expect_contains "$(curl -s "$URL/metrics")" "x420_in_flight_requests 0" "nothing left in flight"

# 8. Restored tool-call arguments parse and equal the original, whatever the secret holds.
tools='[{"type":"function","function":{"name":"run","parameters":{"type":"object"}}}]'
atools='[{"name":"run","input_schema":{"type":"object"}}]'
rtools='[{"type":"function","name":"run","parameters":{"type":"object"}}]'
for secret_var in TRICKY_SECRET PEM_SECRET; do
  secret=${!secret_var}
  text="CALLTOOL with $secret and $AWS"
  OUT=$(curl -s -H "Authorization: Bearer $KEY" -H 'content-type: application/json' "$URL/v1/chat/completions" -d "$(chat false "$text" "$tools")")
  expect_eq "$(jq -r '.choices[0].message.tool_calls[0].function.arguments | fromjson | .text' <<<"$OUT")" "$text" \
    "$secret_var: chat tool arguments parse and are restored"
  OUT=$(stream /v1/chat/completions "$(chat true "$text" "$tools")")
  expect_eq "$(jq -rj '[.events[].data | fromjson? | .choices[0]?.delta.tool_calls[0]?.function.arguments // empty] | join("") | fromjson | .text' <<<"$OUT")" \
    "$text" "$secret_var: streamed chat tool arguments parse and are restored"
  OUT=$(curl -s -H "Authorization: Bearer $KEY" -H 'content-type: application/json' "$URL/v1/responses" -d "$(responses false "$text" "$rtools")")
  expect_eq "$(jq -r '.output[0].arguments | fromjson | .text' <<<"$OUT")" "$text" "$secret_var: responses function_call arguments"
  OUT=$(stream /v1/responses "$(responses true "$text" "$rtools")")
  expect_eq "$(jq -r '[.events[].data | fromjson? | select(.type=="response.function_call_arguments.delta") | .delta] | join("") | fromjson | .text' <<<"$OUT")" \
    "$text" "$secret_var: responses argument deltas"
  expect_eq "$(jq -r '.events[].data | fromjson? | select(.type=="response.function_call_arguments.done") | .arguments | fromjson | .text' <<<"$OUT")" \
    "$text" "$secret_var: responses .done arguments"
  expect_eq "$(jq -r '.events[].data | fromjson? | select(.type=="response.output_item.done") | .item.arguments | fromjson | .text' <<<"$OUT")" \
    "$text" "$secret_var: responses output_item.done arguments"
  expect_eq "$(jq -r '.events[].data | fromjson? | select(.type=="response.completed") | .response.output[0].arguments | fromjson | .text' <<<"$OUT")" \
    "$text" "$secret_var: responses response.completed arguments"
  OUT=$(stream /v1/messages "$(messages true "$text" "$atools")")
  expect_eq "$(jq -r '[.events[].data | fromjson? | select(.type=="content_block_delta") | .delta.partial_json] | join("") | fromjson | .text' <<<"$OUT")" \
    "$text" "$secret_var: anthropic input_json_delta"
  OUT=$(curl -s -H "x-api-key: $KEY" -H 'content-type: application/json' "$URL/v1/messages" -d "$(messages false "$text" "$atools")")
  expect_eq "$(jq -r '.content[0].input.text' <<<"$OUT")" "$text" "$secret_var: anthropic tool_use input"
done
expect_absent_from_files "$TRICKY_SECRET" "the tricky secret never reached the upstream" "$WORK/upstream.jsonl"
expect_absent_from_files "$AWS" "the aws key never reached the upstream" "$WORK/upstream.jsonl"

# 9. Fields of the wrong type: a 400 naming the field, nothing forwarded, nothing left in flight.
before=$(grep -vc '"event"' "$WORK/upstream.jsonl")
for bad in '"stream":"true"' '"stream":1' '"max_tokens":"5"' '"max_tokens":-1' '"stream_options":[]' '"model":5' \
           '"stream_options":{"include_usage":"yes"}' '"stream":true,"stream":false'; do
  field=$(sed -E 's/^"([a-z_]+)".*/\1/' <<<"$bad")
  OUT=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
    "$URL/v1/chat/completions" -d "{\"model\":\"gpt-4o\",$bad,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
  [[ $bad == '"model":5' ]] && OUT=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
    "$URL/v1/chat/completions" -d '{"model":5,"messages":[]}')
  expect_eq "$(tail -1 <<<"$OUT")" 400 "$bad: 400"
  expect_contains "$(head -1 <<<"$OUT" | jq -r .error.message)" "$field" "$bad: the error names $field"
done
expect_eq "$(grep -vc '"event"' "$WORK/upstream.jsonl")" "$before" "nothing of a refused request was forwarded"

# 10. Usage is asked for whatever stream_options say, and the client gets only what it asked.
for opts in '' ',"stream_options":{}' ',"stream_options":{"include_usage":false}' ' ,"stream_options":null'; do
  body="{\"model\":\"gpt-4o\",\"stream\":true$opts,\"messages\":[{\"role\":\"user\",\"content\":\"count me\"}]}"
  OUT=$(stream /v1/chat/completions " $body" "x-mock-usage: 7,9")
  sent=$(grep -v '"event"' "$WORK/upstream.jsonl" | tail -1 | jq -r '.body | fromjson | .stream_options.include_usage')
  expect_eq "$sent" true "stream_options '$opts': the proxy asks for usage"
  expect_eq "$(jq '[.events[].data | fromjson? | select(.choices == [])] | length' <<<"$OUT")" 0 \
    "stream_options '$opts': the usage chunk the client did not ask for is kept from it"
  GEN=$(jq -r '.headers["x420-generation-id"]' <<<"$OUT")
  sleep 0.3
  run x420 generation "$GEN" --json
  expect_eq "$(jq -r '"\(.input_tokens),\(.output_tokens)"' <<<"$OUT")" "7,9" "stream_options '$opts': usage settled"
done

# A capped key cannot pass its cap by asking for no usage: the proxy asks for it anyway, settles
# what the upstream reports, and the next request is refused.
expect_exit 0 "a key capped at one cent" x420 keys create --name capped --cap-usd 0.01 -q
CAPPED=$OUT
capped_stream() {
  node "$CLIENT" "$URL/v1/chat/completions" \
    "$(body_file '{"model":"gpt-4o","stream":true,"max_tokens":10,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"spend"}]}')" \
    "Authorization: Bearer $CAPPED" "x-mock-usage: 1000000,1000000"
}
OUT=$(capped_stream)
expect_eq "$(jq -r '.status' <<<"$OUT")" 200 "the first request fits the cap (its worst case is under a cent)"
sleep 0.3
OUT=$(capped_stream)
expect_eq "$(jq -r '.status' <<<"$OUT")" 402 "the usage the upstream reported was charged: the next request is over the cap"

# SIGTERM with nothing in flight exits at once.
start=$(date +%s%N)
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [[ $elapsed_ms -lt 3000 ]]; then pass; else fail "SIGTERM took ${elapsed_ms} ms with nothing in flight"; fi
expect_not_contains "$(cat "$WORK/serve.log")" "$AWS" "the log holds no secret"
finish
