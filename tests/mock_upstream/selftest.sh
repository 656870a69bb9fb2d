#!/usr/bin/env bash
# Self-test of the mock LLM upstream (server.js): starts it on a free port with a temporary record
# file, drives every route and test control with curl, checks the record file, stops it.
# Needs bash, curl and node (openssl too for the HTTPS part, skipped without it).
# Usage: bash tests/mock_upstream/selftest.sh      (NODE=/path/to/node to pick another node)
set -uo pipefail

# The whole run is bounded, so a hung server or curl can never hang CI.
if [[ -z ${MOCK_SELFTEST_BOUNDED:-} ]]; then
  export MOCK_SELFTEST_BOUNDED=1
  exec timeout --kill-after=5 120 bash "$0" "$@"
fi

HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=$HERE/server.js
NODE=${NODE:-node}
T=$(mktemp -d "${TMPDIR:-/tmp}/mock-upstream-selftest-XXXXXX")
REC=$T/record.jsonl
PIDS=()
PASSED=0
FAILED=0

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL $1${2:+ — $2}"; }
eq() { if [[ $1 == "$2" ]]; then ok "$3"; else bad "$3" "got '$1', wanted '$2'"; fi; }  # GOT WANT WHAT
has() { if [[ $1 == *"$2"* ]]; then ok "$3"; else bad "$3" "'$2' not in: ${1:0:300}"; fi; }
hasnt() { if [[ $1 != *"$2"* ]]; then ok "$3"; else bad "$3" "'$2' should not be there"; fi; }

# js JSON EXPR: evaluates the JavaScript EXPR with the parsed JSON document as `j`; prints strings
# as they are and anything else as JSON.
js() {
  printf '%s' "$1" | "$NODE" -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let out;
      try { const j = JSON.parse(s); out = eval(process.argv[1]); } catch (e) { out = "ERROR: " + e.message; }
      process.stdout.write(typeof out === "string" ? out : JSON.stringify(out));
    });' "$2"
}

# sse SSE EXPR: like js, with `events` = [{event, data}] parsed from an SSE body (data parsed as
# JSON when it is JSON) and `raw` = the raw data strings.
sse() {
  printf '%s' "$1" | "$NODE" -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const events = [], raw = [];
      for (const block of s.split("\n\n")) {
        if (!block.trim()) continue;
        let event = null; const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        const d = data.join("\n"); raw.push(d);
        let parsed = d; try { parsed = JSON.parse(d); } catch (e) {}
        events.push({ event, data: parsed });
      }
      let out;
      try { out = eval(process.argv[1]); } catch (e) { out = "ERROR: " + e.message; }
      process.stdout.write(typeof out === "string" ? out : JSON.stringify(out));
    });' "$2"
}

# body_js EXPR: evaluates EXPR with `s` = the last reply body ($T/body) exactly as received.
body_js() {
  "$NODE" -e '
    const s = require("fs").readFileSync(process.argv[1], "latin1"); let out;
    try { out = eval(process.argv[2]); } catch (e) { out = "ERROR: " + e.message; }
    process.stdout.write(typeof out === "string" ? out : JSON.stringify(out));' "$T/body" "$1"
}

# stream PATH HEADERS_JSON JSON: POSTs with node and reads the reply as a proxy would; prints
# {status, headers, reads, bytes, events: [{at, text}], ms}, where `at` is when the read that
# completed the event arrived (timeOrigin + now, the clock of x_mock_sent_ms) and ms the total.
cat >"$T/client.js" <<'JS'
const http = require("http");
const [url, hdrs, body] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const t0 = now();
const headers = Object.assign({ "content-type": "application/json" }, JSON.parse(hdrs));
http.request(url, { method: "POST", headers }, (res) => {
  const events = [];
  let reads = 0, bytes = 0, buf = "";
  res.setEncoding("utf8");
  res.on("data", (d) => {
    const at = now();
    reads++; bytes += Buffer.byteLength(d); buf += d;
    for (let k; (k = buf.indexOf("\n\n")) >= 0; buf = buf.slice(k + 2)) events.push({ at, text: buf.slice(0, k) });
  });
  res.on("end", () => process.stdout.write(JSON.stringify(
    { status: res.statusCode, headers: res.headers, reads, bytes, events, ms: now() - t0 })));
}).on("error", (e) => process.stdout.write(JSON.stringify({ error: e.message }))).end(body);
JS
stream() { "$NODE" "$T/client.js" "$URL$1" "$2" "$3"; }

# start_server ARGS...: starts server.js, sets SPID and PORT once it printed "listening <port>".
start_server() {
  SOUT=$T/stdout.$RANDOM
  : >"$SOUT" # exists before the child opens it, so the poll below never reads a missing file
  "$NODE" "$SERVER" "$@" >"$SOUT" 2>>"$T/server.stderr" &
  SPID=$!
  PIDS+=("$SPID")
  local _
  for _ in $(seq 100); do
    if [[ $(wc -l <"$SOUT") -ge 1 ]]; then
      read -r word PORT <"$SOUT"
      [[ $word == listening && $PORT =~ ^[0-9]+$ ]] && return 0
      return 1
    fi
    kill -0 "$SPID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# post PATH JSON [CURL ARGS...]: POSTs to the mock; sets BODY, CODE, HDRS (response headers).
post() {
  local path=$1 json=$2
  shift 2
  CODE=$(curl -sS --max-time 10 -o "$T/body" -D "$T/headers" -w '%{http_code}' \
    -H 'content-type: application/json' --data-binary "$json" "$@" "$URL$path")
  BODY=$(tr -d '\0' <"$T/body") # a gzipped body holds NULs, which bash cannot keep
  HDRS=$(tr -d '\r' <"$T/headers")
}

last_record() { grep -v '"event"' "$REC" | tail -n 1; }

echo "== command line"
"$NODE" "$SERVER" --host 0.0.0.0 --port 0 >"$T/refused.out" 2>"$T/refused.err"
rc=$?
[[ $rc -ne 0 ]] && ok "refuses --host 0.0.0.0 (exit $rc)" || bad "refuses --host 0.0.0.0" "exit 0"
hasnt "$(cat "$T/refused.out")" "listening" "prints no listening line when refusing"
has "$(cat "$T/refused.err")" "loopback" "says why it refused"
"$NODE" "$SERVER" --host 10.1.2.3 >/dev/null 2>&1 && bad "refuses --host 10.1.2.3" || ok "refuses --host 10.1.2.3"
"$NODE" "$SERVER" --bogus 1 >/dev/null 2>&1 && bad "refuses an unknown option" || ok "refuses an unknown option"

if ! start_server --port 0 --record "$REC" --max-seconds 110; then
  echo "FAIL the server did not start: $(cat "$T/server.stderr")"
  echo "$PASSED passed, $((FAILED + 1)) failed"
  exit 1
fi
MAIN_PID=$SPID
MAIN_OUT=$SOUT
URL=http://127.0.0.1:$PORT
ok "listening on port $PORT"
eq "$(stat -c %a "$REC")" "600" "record file created with mode 0600"

echo "== OpenAI chat completions"
PH=X420_REDACTED_aws_access_key_3f9a1c2e
TEXT="please use $PH now"
CHAT='{"model":"gpt-x","messages":[{"role":"system","content":"sys"},{"role":"user","content":"first"},{"role":"assistant","content":"a"},{"role":"user","content":"'"$TEXT"'"}]}'
post /v1/chat/completions "$CHAT" -H 'Authorization: Bearer sk-test-123'
eq "$CODE" 200 "chat: 200"
eq "$(js "$BODY" 'j.object')" chat.completion "chat: object"
eq "$(js "$BODY" 'j.choices[0].message.content')" "$TEXT" "chat: echoes the last user message"
eq "$(js "$BODY" 'j.model')" gpt-x "chat: echoes the model"
eq "$(js "$BODY" 'j.usage.total_tokens === j.usage.prompt_tokens + j.usage.completion_tokens && j.usage.prompt_tokens > 0')" true "chat: usage"
has "$HDRS" "content-type: application/json" "chat: JSON content type"
REC_LINE=$(last_record)
eq "$(js "$REC_LINE" 'j.method + " " + j.path')" "POST /v1/chat/completions" "record: method and path"
eq "$(js "$REC_LINE" 'j.body')" "$CHAT" "record: the raw body"
eq "$(js "$REC_LINE" 'j.auth_sha256')" "$(printf 'Bearer sk-test-123' | sha256sum | cut -d' ' -f1)" "record: auth_sha256 of the Authorization value"
eq "$(js "$REC_LINE" '"authorization" in j.headers')" false "record: no raw Authorization header"
eq "$(js "$REC_LINE" 'j.headers["content-type"]')" application/json "record: other headers, lowercased"
eq "$(js "$REC_LINE" 'typeof j.received_at === "string" && !isNaN(Date.parse(j.received_at))')" true "record: received_at"
has "$HDRS" "x-mock-request-id: $(js "$REC_LINE" 'j.id')" "x-mock-request-id matches the record's id"

post /v1/chat/completions '{"messages":[{"role":"user","content":[{"type":"text","text":"part one"},{"type":"image_url","image_url":{"url":"data:,x"}},{"type":"text","text":"part two"}]}]}'
eq "$(js "$BODY" 'j.choices[0].message.content')" $'part one\npart two' "chat: text parts of an array content, joined by newlines"

STREAM='{"model":"gpt-x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"'"$TEXT"'"}]}'
post /v1/chat/completions "$STREAM"
eq "$CODE" 200 "chat stream: 200"
has "$HDRS" "content-type: text/event-stream" "chat stream: event-stream content type"
eq "$(sse "$BODY" 'raw[raw.length - 1]')" "[DONE]" "chat stream: ends with data: [DONE]"
eq "$(sse "$BODY" 'events.slice(0, -1).filter(e => e.data.choices.length).map(e => e.data.choices[0].delta.content || "").join("")')" "$TEXT" "chat stream: deltas reassemble the echo"
eq "$(sse "$BODY" 'events.filter(e => e.data.choices && e.data.choices.length && (e.data.choices[0].delta.content || "").length > 7).length')" 0 "chat stream: pieces of 7 characters"
eq "$(sse "$BODY" 'raw.some(r => r.includes("'"$PH"'"))')" false "chat stream: the placeholder is split across events"
eq "$(sse "$BODY" 'events.filter(e => e.data.object === "chat.completion.chunk").length === events.length - 1')" true "chat stream: chat.completion.chunk objects"
eq "$(sse "$BODY" 'const u = events[events.length - 2].data; u.choices.length === 0 && u.usage.total_tokens > 0')" true "chat stream: include_usage adds a last chunk with usage"
eq "$(sse "$BODY" 'events.find(e => e.data.choices && e.data.choices.length && e.data.choices[0].finish_reason).data.choices[0].finish_reason')" stop "chat stream: finish_reason stop"
post /v1/chat/completions '{"stream":true,"messages":[{"role":"user","content":"no usage"}]}'
eq "$(sse "$BODY" 'events.some(e => e.data && e.data.usage)')" false "chat stream: no usage without include_usage"
post /v1/chat/completions '{"stream":true,"messages":[{"role":"user","content":"abcdefghij"}]}' -H 'x-mock-chunk-size: 3'
eq "$(sse "$BODY" 'events.slice(1, -2).map(e => e.data.choices[0].delta.content).join("|")')" "abc|def|ghi|j" "x-mock-chunk-size: 3"

echo "== OpenAI tool calls"
TOOLTEXT='CALLTOOL with "quotes" and '$PH
TOOLS='[{"type":"function","function":{"name":"run_shell","parameters":{"type":"object"}}}]'
post /v1/chat/completions '{"tools":'"$TOOLS"',"messages":[{"role":"user","content":"CALLTOOL with \"quotes\" and '"$PH"'"}]}'
eq "$(js "$BODY" 'j.choices[0].finish_reason')" tool_calls "tool: finish_reason tool_calls"
eq "$(js "$BODY" 'j.choices[0].message.tool_calls[0].function.name')" run_shell "tool: the first tool's name"
eq "$(js "$BODY" 'JSON.parse(j.choices[0].message.tool_calls[0].function.arguments).text')" "$TOOLTEXT" "tool: arguments carry the echo"
post /v1/chat/completions '{"stream":true,"tools":'"$TOOLS"',"messages":[{"role":"user","content":"CALLTOOL with \"quotes\" and '"$PH"'"}]}'
eq "$(sse "$BODY" 'JSON.parse(events.slice(0, -1).map(e => ((e.data.choices[0].delta.tool_calls || [])[0] || {function: {}}).function.arguments || "").join("")).text')" "$TOOLTEXT" "tool stream: argument deltas reassemble"
eq "$(sse "$BODY" 'events[0].data.choices[0].delta.tool_calls[0].id.startsWith("call_")')" true "tool stream: the first delta has the call id"
eq "$(sse "$BODY" 'raw[raw.length - 1]')" "[DONE]" "tool stream: [DONE]"
post /v1/chat/completions '{"messages":[{"role":"user","content":"CALLTOOL but no tools"}]}'
eq "$(js "$BODY" 'j.choices[0].message.content')" "CALLTOOL but no tools" "tool: no tools, plain echo"

echo "== OpenAI completions, embeddings, responses, models"
post /v1/completions '{"model":"m","prompt":"complete '"$PH"'"}'
eq "$(js "$BODY" 'j.object + " " + j.choices[0].text')" "text_completion complete $PH" "completions: echoes the prompt"
eq "$(js "$BODY" 'j.usage.total_tokens > 0')" true "completions: usage"
post /v1/completions '{"stream":true,"prompt":"streamed prompt"}'
eq "$(sse "$BODY" 'events.slice(0, -1).map(e => e.data.choices[0].text).join("") + raw[raw.length - 1]')" "streamed prompt[DONE]" "completions stream: echo and [DONE]"
post /v1/embeddings '{"model":"e","input":["one","two"]}'
eq "$(js "$BODY" 'j.data.length + " " + j.data[1].index + " " + JSON.stringify(j.data[0].embedding)')" "2 1 [0.0625,-0.125,0.25,-0.5]" "embeddings: one fixed vector per input"
eq "$(js "$BODY" 'j.usage.prompt_tokens > 0 && j.usage.total_tokens === j.usage.prompt_tokens')" true "embeddings: usage"
post /v1/embeddings '{"input":"x","encoding_format":"base64"}'
eq "$(js "$BODY" 'Array.from(new Float32Array(new Uint8Array(Buffer.from(j.data[0].embedding, "base64")).buffer)).join(",")')" "0.0625,-0.125,0.25,-0.5" "embeddings: base64 float32"
post /v1/responses '{"model":"m","input":"respond '"$PH"'"}'
eq "$(js "$BODY" 'j.object + " " + j.status + " " + j.output[0].content[0].text')" "response completed respond $PH" "responses: echoes a string input"
eq "$(js "$BODY" 'j.usage.total_tokens === j.usage.input_tokens + j.usage.output_tokens')" true "responses: usage"
post /v1/responses '{"input":[{"role":"user","content":"old"},{"role":"assistant","content":"a"},{"type":"message","role":"user","content":[{"type":"input_text","text":"newest"}]}]}'
eq "$(js "$BODY" 'j.output[0].content[0].text')" newest "responses: echoes the last user item"
post /v1/responses '{"stream":true,"input":"'"$TEXT"'"}'
eq "$(sse "$BODY" 'events.filter(e => e.event === "response.output_text.delta").map(e => e.data.delta).join("")')" "$TEXT" "responses stream: output_text.delta events reassemble"
eq "$(sse "$BODY" 'events.every(e => e.event === e.data.type)')" true "responses stream: event names match data types"
eq "$(sse "$BODY" 'events[0].event + " " + events[events.length - 1].event')" "response.created response.completed" "responses stream: created ... completed"
eq "$(sse "$BODY" 'events[events.length - 1].data.response.usage.output_tokens > 0')" true "responses stream: response.completed carries usage"
post /v1/responses '{"stream":true,"tools":[{"type":"function","name":"lookup"}],"input":"CALLTOOL now"}'
eq "$(sse "$BODY" 'JSON.parse(events.filter(e => e.event === "response.function_call_arguments.delta").map(e => e.data.delta).join("")).text')" "CALLTOOL now" "responses stream: function_call_arguments.delta"
CODE=$(curl -sS --max-time 10 -o "$T/body" -w '%{http_code}' "$URL/v1/models")
BODY=$(cat "$T/body")
eq "$CODE $(js "$BODY" 'j.object + " " + (j.data.length > 0) + " " + j.data[0].object')" "200 list true model" "models: OpenAI list"
BODY=$(curl -sS --max-time 10 -H 'anthropic-version: 2023-06-01' "$URL/v1/models")
eq "$(js "$BODY" 'j.data[0].type + " " + j.has_more')" "model false" "models: Anthropic shape with anthropic-version"

echo "== Anthropic messages"
ANTH_KEY=sk-ant-test-456
MSG='{"model":"claude-x","max_tokens":50,"system":"sys","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"a"},{"role":"user","content":[{"type":"text","text":"'"$TEXT"'"}]}]}'
post '/v1/messages?beta=true' "$MSG" -H "x-api-key: $ANTH_KEY" -H 'anthropic-version: 2023-06-01'
eq "$CODE" 200 "messages: 200 with a query string"
eq "$(js "$BODY" 'j.type + " " + j.role + " " + j.content[0].type')" "message assistant text" "messages: message shape"
eq "$(js "$BODY" 'j.content[0].text')" "$TEXT" "messages: echoes the last user text"
eq "$(js "$BODY" 'j.stop_reason + " " + (j.usage.input_tokens > 0) + " " + (j.usage.output_tokens > 0)')" "end_turn true true" "messages: stop_reason and usage"
REC_LINE=$(last_record)
eq "$(js "$REC_LINE" 'j.path + " " + j.query')" "/v1/messages beta=true" "record: path and query apart"
eq "$(js "$REC_LINE" 'j.auth_sha256 + " " + j.auth["x-api-key"]')" "$(printf '%s' "$ANTH_KEY" | sha256sum | cut -d' ' -f1) $(printf '%s' "$ANTH_KEY" | sha256sum | cut -d' ' -f1)" "record: auth_sha256 of x-api-key"
eq "$(js "$REC_LINE" 'j.headers["anthropic-version"]')" 2023-06-01 "record: anthropic-version kept"
post /v1/messages '{"stream":true,"messages":[{"role":"user","content":"'"$TEXT"'"}]}'
eq "$(sse "$BODY" 'events.map(e => e.event).filter(n => n !== "ping").filter((n, i, a) => n !== a[i - 1]).join(",")')" \
  "message_start,content_block_start,content_block_delta,content_block_stop,message_delta,message_stop" "messages stream: the event sequence"
eq "$(sse "$BODY" 'events.every(e => e.event === e.data.type)')" true "messages stream: event: names match data types"
eq "$(sse "$BODY" 'events.filter(e => e.event === "content_block_delta").map(e => e.data.delta.text).join("")')" "$TEXT" "messages stream: text_delta events reassemble"
eq "$(sse "$BODY" 'raw.some(r => r.includes("'"$PH"'"))')" false "messages stream: the placeholder is split across events"
eq "$(sse "$BODY" 'events[0].data.message.usage.input_tokens > 0 && events.find(e => e.event === "message_delta").data.usage.output_tokens > 0')" true "messages stream: usage in message_start and message_delta"
hasnt "$BODY" "[DONE]" "messages stream: no [DONE]"
post /v1/messages '{"tools":[{"name":"get_file","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"CALLTOOL \"x\" '"$PH"'"}]}'
eq "$(js "$BODY" 'j.stop_reason + " " + j.content[0].type + " " + j.content[0].name + " " + j.content[0].input.text')" "tool_use tool_use get_file CALLTOOL \"x\" $PH" "messages: tool_use"
post /v1/messages '{"stream":true,"tools":[{"name":"get_file","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"CALLTOOL \"x\" '"$PH"'"}]}'
eq "$(sse "$BODY" 'events[1].data.content_block.type + " " + JSON.parse(events.filter(e => e.event === "content_block_delta").map(e => e.data.delta.partial_json).join("")).text')" "tool_use CALLTOOL \"x\" $PH" "messages stream: input_json_delta reassembles"
post /v1/messages '{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"tool said hi"}]}]}'
eq "$(js "$BODY" 'j.content[0].text')" "tool said hi" "messages: echoes tool_result content"
post /v1/messages/count_tokens '{"messages":[{"role":"user","content":"count these tokens"}]}'
eq "$(js "$BODY" 'j.input_tokens')" 5 "count_tokens: ceil(bytes / 4)"
post /v1/messages '{"messages":[{"role":"user","content":"x"}]}' -H 'x-mock-usage: 1234,567'
eq "$(js "$BODY" 'j.usage.input_tokens + "," + j.usage.output_tokens')" "1234,567" "x-mock-usage sets the token counts"

echo "== test controls"
post /v1/chat/completions "$CHAT" -H 'x-mock-status: 500'
eq "$CODE" 500 "x-mock-status 500: status"
eq "$(js "$BODY" 'j.error.type')" server_error "x-mock-status 500: OpenAI error shape"
has "$(js "$BODY" 'j.error.message')" "$TEXT" "x-mock-status 500: the message echoes the prompt"
post /v1/messages "$MSG" -H 'x-mock-status: 529'
eq "$CODE $(js "$BODY" 'j.type + " " + j.error.type')" "529 error overloaded_error" "x-mock-status 529: Anthropic error shape"
has "$(js "$BODY" 'j.error.message')" "$TEXT" "x-mock-status 529: the message echoes the prompt"
post /v1/chat/completions "$STREAM" -H 'x-mock-status: 429'
eq "$CODE $(js "$BODY" 'j.error.type')" "429 rate_limit_exceeded" "x-mock-status 429 on a streaming request: JSON error"
has "$HDRS" "retry-after: 1" "x-mock-status 429: retry-after"
post /v1/nope '{}'
eq "$CODE $(js "$BODY" 'typeof j.error.message')" "404 string" "unknown route: 404 in OpenAI shape"
post /v1/messages '{not json'
eq "$CODE $(js "$BODY" 'j.type')" "400 error" "invalid JSON: 400 in Anthropic shape"

TIME=$(curl -sS --max-time 10 -o /dev/null -w '%{time_starttransfer}' -H 'x-mock-delay-ms: 600' \
  --data-binary "$CHAT" "$URL/v1/chat/completions")
eq "$(awk -v t="$TIME" 'BEGIN { print (t >= 0.6) ? "yes" : "no" }')" yes "x-mock-delay-ms 600: first byte after ${TIME}s"

LINES_BEFORE=$(wc -l <"$REC")
curl -sS --max-time 10 -o /dev/null -H 'x-mock-drop: 1' --data-binary "$CHAT" "$URL/v1/chat/completions" 2>/dev/null
rc=$?
eq "$rc" 52 "x-mock-drop: curl sees an empty reply (exit 52)"
eq "$(js "$(last_record)" 'j.headers["x-mock-drop"]')" 1 "x-mock-drop: the request is still recorded"
eq "$(grep -c '"event"' "$REC")" 0 "x-mock-drop: no client_closed line for our own drop"

STALL_BYTES=$(curl -sS --max-time 2 -H 'x-mock-stall-after-bytes: 40' --data-binary "$STREAM" \
  "$URL/v1/chat/completions" 2>/dev/null | wc -c)
rc=${PIPESTATUS[0]}
eq "$rc $STALL_BYTES" "28 40" "x-mock-stall-after-bytes 40: 40 bytes, then the client times out"
STALL_ID=$(js "$(last_record)" 'j.id')
for _ in $(seq 40); do grep -q '"event":"client_closed"' "$REC" && break; sleep 0.05; done
CLOSED=$(grep '"event":"client_closed"' "$REC" | tail -n 1)
eq "$(js "$CLOSED" 'j.client_closed + " " + j.id + " " + j.path + " " + j.bytes_sent')" "true $STALL_ID /v1/chat/completions 40" "stall: client_closed line when the client left"
curl -sS --max-time 1 -o /dev/null -H 'x-mock-stall-after-bytes: 0' -H 'x-mock-status: 200' \
  --data-binary "$CHAT" "$URL/v1/chat/completions" -w '%{http_code}' >"$T/code" 2>/dev/null
eq "$(cat "$T/code")" 200 "stall after 0 bytes: the status line still arrives"

echo "== provider behaviour: timing, keep-alives, line ends"
ABC='{"stream":true,"messages":[{"role":"user","content":"abcdefghij"}]}'
S=$(stream /v1/chat/completions '{"x-mock-chunk-delay-ms":"100","x-mock-timestamps":"1","x-mock-chunk-size":"3"}' "$ABC")
EV='j.events.map(e => e.text.startsWith("data: {") ? JSON.parse(e.text.slice(6)) : e.text)'
eq "$(js "$S" 'j.events.length + " " + j.reads')" "7 7" "chunk delay 100: 7 events, each in its own read"
eq "$(js "$S" 'const a = j.events.map(e => e.at); Math.min(...a.slice(1).map((t, i) => t - a[i])) >= 80')" true "chunk delay 100: consecutive events arrive >= 80 ms apart"
eq "$(js "$S" "const ev = $EV; ev.slice(0, -1).every(d => typeof d.x_mock_sent_ms === 'number') && ev[ev.length - 1]")" "data: [DONE]" "timestamps: every JSON event has x_mock_sent_ms, [DONE] untouched"
eq "$(js "$S" "const ev = $EV; ev.slice(0, -1).some(d => d.x_mock_sent_ms % 1 !== 0)")" true "timestamps: sub-millisecond"
eq "$(js "$S" "const ev = $EV.slice(0, -1); ev.slice(1).every((d, i) => d.x_mock_sent_ms - ev[i].x_mock_sent_ms >= 80)")" true "timestamps: stamped when written, >= 80 ms apart"
eq "$(js "$S" "const ev = $EV; ev.slice(0, -1).every((d, i) => { const l = j.events[i].at - d.x_mock_sent_ms; return l > -5 && l < 50; })")" true "timestamps: arrival minus x_mock_sent_ms is a small latency"
eq "$(js "$S" "$EV.slice(1, -2).map(d => d.choices[0].delta.content).join('|')")" "abc|def|ghi|j" "timestamps: the content is unchanged"
post /v1/messages '{"stream":true,"messages":[{"role":"user","content":"stamp me"}]}' -H 'x-mock-timestamps: 1'
eq "$(sse "$BODY" 'events.every(e => typeof e.data.x_mock_sent_ms === "number" && e.event === e.data.type)')" true "timestamps: every Anthropic event too"
post /v1/chat/completions "$ABC"
hasnt "$BODY" "x_mock_sent_ms" "timestamps: none without the header"

post /v1/chat/completions "$ABC" -H 'x-mock-keepalive: 1'
eq "$(body_js 's.split("\n\n").slice(0, -1).map(b => b === ": ping" ? "p" : "e").join("")')" "pepepepepe" "keepalive: ': ping' before the first event and between every pair"
eq "$(sse "$BODY" 'events.filter(e => e.data.choices).map(e => e.data.choices[0].delta.content || "").join("") + raw[raw.length - 1]')" "abcdefghij[DONE]" "keepalive: the events are unchanged"
S=$(stream /v1/messages '{"x-mock-keepalive":"1","x-mock-chunk-delay-ms":"60"}' '{"stream":true,"messages":[{"role":"user","content":"ping me"}]}')
eq "$(js "$S" 'j.reads === j.events.length && j.events[0].text === ": ping" && j.events[2].text === ": ping"')" true "keepalive with a chunk delay: each ping is a read of its own"

post /v1/chat/completions "$ABC" -H 'x-mock-line-ends: crlf'
has "$(od -c "$T/body")" '\r  \n' "line ends crlf: od -c shows \\r \\n"
eq "$(body_js '/\r\n\r\n/.test(s) && !/[^\r]\n/.test(s)')" true "line ends crlf: every \\n is \\r\\n"
eq "$(sse "$(body_js 's.replace(/\r\n/g, "\n")')" 'events.slice(1, -2).map(e => e.data.choices[0].delta.content).join("")')" abcdefghij "line ends crlf: the same stream otherwise"
post /v1/messages '{"stream":true,"messages":[{"role":"user","content":"hi"}]}' -H 'x-mock-line-ends: crlf' -H 'x-mock-keepalive: 1'
eq "$(body_js 's.startsWith(": ping\r\n\r\nevent: message_start\r\ndata: {")')" true "line ends crlf: event: lines and pings too"
post /v1/chat/completions "$ABC" -H 'x-mock-line-ends: cr'
eq "$(body_js '!s.includes("\n") && s.includes("}\r\rdata: ") && s.endsWith("[DONE]\r\r")')" true "line ends cr: only \\r"
eq "$(sse "$(body_js 's.replace(/\r/g, "\n")')" 'events.slice(1, -2).map(e => e.data.choices[0].delta.content).join("")')" abcdefghij "line ends cr: the same stream otherwise"
post /v1/chat/completions "$ABC" -H 'x-mock-line-ends: bogus'
eq "$(body_js 's.includes("\r")')" false "line ends: a malformed value leaves lf"

echo "== provider behaviour: mid-stream close, byte split, gzip"
curl -sS -N --max-time 10 -o "$T/body" -H 'x-mock-close-after-events: 3' --data-binary "$ABC" "$URL/v1/chat/completions" 2>/dev/null
rc=$?
[[ $rc -ne 0 ]] && ok "close after 3 events: curl fails (exit $rc)" || bad "close after 3 events: curl fails" "exit 0"
eq "$(sse "$(cat "$T/body")" 'events.length + " " + events.map(e => e.data.choices[0].delta.content).join("|")')" "3 |abcdefg|hij" "close after 3 events: exactly 3 events arrived"
CLOSE_ID=$(js "$(last_record)" 'j.id')
eq "$(js "$(grep '"mid_stream_close"' "$REC" | tail -n 1)" 'j.id + " " + j.events_sent')" "$CLOSE_ID 3" "close after 3 events: mid_stream_close line in the record"
curl -sS -N --raw --max-time 10 -o "$T/body" -H 'x-mock-close-after-events: 3' --data-binary "$ABC" "$URL/v1/chat/completions" 2>/dev/null
eq "$(body_js '(s.match(/\r\ndata: /g) || []).length + " " + s.endsWith("0\r\n\r\n")')" "3 false" "close after 3 events: no terminating zero-length chunk (--raw)"
curl -sS -N --max-time 10 -o "$T/body" -w '%{http_code}' -H 'x-mock-close-after-events: 2' -H 'x-mock-keepalive: 1' \
  --data-binary '{"stream":true,"messages":[{"role":"user","content":"hi"}]}' "$URL/v1/messages" >"$T/code" 2>/dev/null
eq "$(cat "$T/code") $(body_js 's.split("\n\n").slice(0, -1).map(b => b === ": ping" ? "p" : b.split("\n")[0]).join(",")')" \
  "200 p,event: message_start,p,event: content_block_start" "close after 2 events: pings are not counted"
rm -f "$T/body" # curl creates no output file for an empty body
curl -sS -N --max-time 10 -o "$T/body" -w '%{http_code}' -H 'x-mock-close-after-events: 0' --data-binary "$ABC" "$URL/v1/chat/completions" >"$T/code" 2>/dev/null
eq "$? $(cat "$T/code") $(cat "$T/body" 2>/dev/null | wc -c)" "18 200 0" "close after 0 events: the status line, then the close"
sleep 0.2
eq "$("$NODE" -e 'const l = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const ids = l.filter(r => r.event === "mid_stream_close").map(r => r.id);
  console.log(ids.length + " " + l.filter(r => r.event === "client_closed" && ids.includes(r.id)).length)' "$REC")" "4 0" "close mid-stream: no client_closed line for our own closes"

LONG=$(head -c 1500 /dev/zero | tr '\0' a)
S=$(stream /v1/chat/completions '{"x-mock-byte-split":"1"}' '{"stream":true,"messages":[{"role":"user","content":"'"$LONG"'"}]}')
eq "$(js "$S" 'j.bytes > 30000 && j.reads > j.bytes / 20')" true "byte split: a $(js "$S" 'j.bytes')-byte stream comes in $(js "$S" 'j.reads') reads"
eq "$(js "$S" 'j.events.slice(1, -2).map(e => JSON.parse(e.text.slice(6)).choices[0].delta.content).join("").length + " " + j.events[j.events.length - 1].text')" "1500 data: [DONE]" "byte split: the stream is intact"
eq "$(js "$S" 'j.ms < 4000')" true "byte split: a 30 KB stream takes $(js "$S" 'Math.round(j.ms)') ms"
LONG=$(head -c 15000 /dev/zero | tr '\0' a)
S=$(stream /v1/chat/completions '{"x-mock-byte-split":"1"}' '{"stream":true,"messages":[{"role":"user","content":"'"$LONG"'"}]}')
eq "$(js "$S" 'j.bytes > 400000 && j.ms < 8000 && j.events.length === 2146')" true "byte split: a 400 KB stream takes $(js "$S" 'Math.round(j.ms)') ms (per byte for the first 64 KiB)"
post /v1/chat/completions "$CHAT" -H 'x-mock-byte-split: 1'
eq "$CODE $(js "$BODY" 'j.choices[0].message.content')" "200 $TEXT" "byte split: a JSON reply too"

post /v1/chat/completions "$ABC" -H 'x-mock-gzip: 1' -H 'accept-encoding: identity'
eq "$(od -An -tx1 -N2 "$T/body" | tr -d ' ')" 1f8b "gzip: the raw stream starts with 1f 8b, even for accept-encoding identity"
has "$HDRS" "content-encoding: gzip" "gzip: content-encoding: gzip"
curl -sS --compressed --max-time 10 -o "$T/body" -H 'x-mock-gzip: 1' --data-binary "$ABC" "$URL/v1/chat/completions"
eq "$(sse "$(cat "$T/body")" 'events.slice(1, -2).map(e => e.data.choices[0].delta.content).join("") + raw[raw.length - 1]')" "abcdefghij[DONE]" "gzip: curl --compressed decodes the stream"
post /v1/messages "$MSG" -H 'x-mock-gzip: 1'
eq "$(od -An -tx1 -N2 "$T/body" | tr -d ' ') $(grep -i '^content-length:' <<<"$HDRS" | awk '{print $2}')" "1f8b $(wc -c <"$T/body")" "gzip: a JSON reply, content-length of the gzipped bytes"
eq "$(js "$(curl -sS --compressed --max-time 10 -H 'x-mock-gzip: 1' --data-binary "$MSG" "$URL/v1/messages")" 'j.content[0].text')" "$TEXT" "gzip: curl --compressed decodes the JSON"
post /v1/chat/completions "$ABC" --compressed
hasnt "$HDRS" "content-encoding" "no gzip header: no compression, whatever accept-encoding says"
has "$(js "$(last_record)" 'j.headers["accept-encoding"]')" "gzip" "record: the request's accept-encoding"

echo "== provider behaviour: deep, odd and merged events"
post /v1/chat/completions "$ABC" -H 'x-mock-deep: 200000'
eq "$(sse "$BODY" 'const d = raw[0]; [d.startsWith("{\"type\":\"deep\",\"x\":["), d.split("[").length - 1, d.split("]").length - 1, d.endsWith("]}")].join(" ")')" \
  "true 200000 200000 true" "deep 200000: a first event with 200000 nested brackets"
eq "$(sse "$BODY" 'events.slice(2, -2).map(e => e.data.choices[0].delta.content).join("") + raw[raw.length - 1]')" "abcdefghij[DONE]" "deep: the normal events follow"
post /v1/messages "$MSG" -H 'x-mock-deep: 200000'
eq "$CODE $(body_js 's.endsWith(",\"x_mock_deep\":" + "[".repeat(200000) + "]".repeat(200000) + "}") && s.startsWith("{\"id\":")') $(grep -i '^content-length:' <<<"$HDRS" | awk '{print $2}')" \
  "200 true $(wc -c <"$T/body")" "deep 200000: x_mock_deep in a JSON reply"
post /v1/chat/completions "$ABC" -H 'x-mock-deep: lots'
hasnt "$BODY" "deep" "deep: a malformed value is ignored"

post /v1/chat/completions "$ABC" -H 'x-mock-odd: 1'
eq "$(sse "$BODY" 'raw.slice(0, 7).join(" ~ ")')" '{"type": 7} ~ {"choices": "nope"} ~ {"choices": [1, null, "x"]} ~ {"type":"content_block_delta","index":"zero","delta":5} ~ [1,2,3] ~ "just a string" ~ not json at all' "odd: the unexpected data come first"
eq "$(body_js 's.includes("\n\nevent: mystery\n\nid: mock-odd-1\nretry: 3000\ndata: ")')" true "odd: an event with no data, one with id: and retry:"
eq "$(sse "$BODY" 'events.slice(10, -2).map(e => e.data.choices[0].delta.content).join("") + raw[raw.length - 1]')" "abcdefghij[DONE]" "odd: the real events follow unchanged"
post /v1/messages '{"stream":true,"messages":[{"role":"user","content":"odd"}]}' -H 'x-mock-odd: 1'
eq "$(sse "$BODY" 'events.length + " " + events[9].event + " " + events.filter(e => e.event === "content_block_delta").map(e => e.data.delta.text).join("")')" "16 message_start odd" "odd: on an Anthropic stream too"

post /v1/chat/completions "$ABC" -H 'x-mock-finish-in-last-delta: 1'
eq "$(sse "$BODY" 'const c = events.slice(0, -1).map(e => e.data.choices[0]); c.map(x => (x.delta.content || "") + ":" + (x.finish_reason || "")).join("|")')" ":|abcdefg:|hij:stop" "finish in last delta: the last piece carries finish_reason"
post /v1/chat/completions '{"stream":true,"tools":'"$TOOLS"',"messages":[{"role":"user","content":"CALLTOOL x"}]}' -H 'x-mock-finish-in-last-delta: 1'
eq "$(sse "$BODY" 'const c = events.slice(0, -1).map(e => e.data.choices[0]); const l = c[c.length - 1]; l.finish_reason + " " + (l.delta.tool_calls[0].function.arguments.length > 0) + " " + JSON.parse(c.map(x => x.delta.tool_calls[0].function.arguments).join("")).text')" "tool_calls true CALLTOOL x" "finish in last delta: a tool call's last arguments piece carries finish_reason"
post /v1/chat/completions "$ABC"
eq "$(sse "$BODY" 'const c = events.slice(0, -1).map(e => e.data.choices[0]); c.slice(-2).map(x => JSON.stringify(x.delta) + ":" + x.finish_reason).join("|")')" '{"content":"hij"}:null|{}:stop' "default: the finish chunk follows the last text piece at once"
post /v1/chat/completions '{"stream":true,"tools":'"$TOOLS"',"messages":[{"role":"user","content":"CALLTOOL x"}]}'
eq "$(sse "$BODY" 'const c = events.slice(0, -1).map(e => e.data.choices[0]); (c[c.length - 2].delta.tool_calls[0].function.arguments.length > 0) + " " + JSON.stringify(c[c.length - 1].delta) + ":" + c[c.length - 1].finish_reason')" 'true {}:tool_calls' "tool stream: the finish chunk follows the last arguments piece at once"

echo "== the record as a whole"
RECORD=$(cat "$REC")
hasnt "$RECORD" "sk-test-123" "record: the raw OpenAI secret is nowhere"
hasnt "$RECORD" "$ANTH_KEY" "record: the raw Anthropic secret is nowhere"
eq "$(grep -cv '"event"' "$REC")" "$(grep -c '"received_at"' "$REC")" "record: one line per request, each with received_at"
eq "$("$NODE" -e 'const l = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n"); l.forEach(JSON.parse); console.log("ok")' "$REC" 2>&1)" ok "record: every line is JSON"

echo "== HTTPS"
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
  if start_server --port 0 --record "$T/tls.jsonl" --max-seconds 30 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"; then
    TLS_PID=$SPID
    BODY=$(curl -sS --max-time 10 --cacert "$T/cert.pem" --data-binary "$CHAT" "https://127.0.0.1:$PORT/v1/chat/completions")
    eq "$(js "$BODY" 'j.choices[0].message.content')" "$TEXT" "https: verified with the CA, echoes"
    curl -sS --max-time 10 -o /dev/null --data-binary "$CHAT" "https://127.0.0.1:$PORT/v1/chat/completions" 2>/dev/null
    eq "$?" 60 "https: an unverified certificate is refused by curl (exit 60)"
    kill -TERM "$TLS_PID"
    wait "$TLS_PID"
    eq "$?" 0 "https: exits 0 on SIGTERM"
  else
    bad "https: the server started" "$(cat "$T/server.stderr")"
  fi
else
  echo "skip https: no openssl"
fi

echo "== stopping"
# A stalled stream still open must not keep the server from exiting.
curl -sS --max-time 20 -H 'x-mock-stall-after-bytes: 10' --data-binary "$STREAM" "$URL/v1/chat/completions" >/dev/null 2>&1 &
STALLED_CURL=$!
sleep 0.3
kill -TERM "$MAIN_PID"
wait "$MAIN_PID"
eq "$?" 0 "SIGTERM: exit 0 with a stalled stream open"
kill -0 "$MAIN_PID" 2>/dev/null && bad "SIGTERM: the process is gone" || ok "SIGTERM: the process is gone"
wait "$STALLED_CURL" 2>/dev/null
eq "$(wc -l <"$MAIN_OUT" | tr -d ' ')" 1 "stdout held exactly one line"

start_server --port 0 --max-seconds 1 || bad "max-seconds: the server started"
SHORT_PID=$SPID
for _ in $(seq 60); do kill -0 "$SHORT_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$SHORT_PID" 2>/dev/null && bad "--max-seconds 1: exits by itself" || ok "--max-seconds 1: exits by itself"
wait "$SHORT_PID"
eq "$?" 0 "--max-seconds: exit 0"

start_server --port 0 || bad "SIGINT: the server started"
kill -INT "$SPID"
wait "$SPID"
eq "$?" 0 "SIGINT: exit 0"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
