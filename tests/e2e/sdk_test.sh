#!/usr/bin/env bash
# x420 serve driven by the official npm SDKs, `openai` and `@anthropic-ai/sdk`, configured the way
# IDE tools configure them: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1, ANTHROPIC_BASE_URL=
# http://127.0.0.1:PORT, the API key an x420 key. The client logic is sdk_client.mjs: it runs
# named scenarios and prints one JSON line for each, which this script asserts on. Checks: what
# the SDKs reconstruct (streamed chunks and events joined, tool-call arguments joined and parsed)
# equals what was sent, canary secrets restored; the mock upstream never received a canary;
# embeddings, responses, models and count_tokens work through the SDKs; and the SDKs map x420's
# errors to their own exception classes (revoked key -> AuthenticationError 401, upstream 500 ->
# InternalServerError 500).
#
# The SDKs are installed by this test into the build tree, $(dirname $X420_BIN)/npm, pinned to
# exact versions, only when they are not there yet. node and npm are required: without them the
# test fails (CI installs nodejs and npm).

# npm runs with the caller's HOME and proxy settings (its config, registry and cache), which
# lib.sh replaces with a temporary HOME and unsets; keep them first.
NPM_ENV=("HOME=${HOME:-/nonexistent}")
for v in http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY; do
  [[ -n ${!v:-} ]] && NPM_ENV+=("$v=${!v}")
done
source "$(dirname "$0")/lib.sh"

OPENAI_SDK_VERSION=6.30.1
ANTHROPIC_SDK_VERSION=1.13.0
CLIENT=$X420_SOURCE_DIR/tests/e2e/sdk_client.mjs
NPM_DIR=$(cd "$(dirname "$X420_BIN")" && pwd)/npm

for tool in node npm; do
  if ! command -v "$tool" >/dev/null || ! "$tool" --version >/dev/null 2>&1; then
    fail "$tool is needed to install and run the official SDKs: not found or not working in PATH=$PATH (apt-get install nodejs npm)"
    finish
    exit 1
  fi
done
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[[ $NODE_MAJOR -ge 18 ]] || { fail "node >= 18 is needed (have $(node --version))"; finish; exit 1; }

installed_version() { jq -r .version "$NPM_DIR/node_modules/$1/package.json" 2>/dev/null || true; }
if [[ $(installed_version openai) != "$OPENAI_SDK_VERSION" ||
      $(installed_version @anthropic-ai/sdk) != "$ANTHROPIC_SDK_VERSION" ]]; then
  # Into a fresh directory next to the final one, then renamed: an interrupted install never
  # leaves a half-filled tree that the check above would take for a good one.
  NPM_TMP=$(mktemp -d "$NPM_DIR.tmp-XXXXXX")
  if ! timeout 100 env "${NPM_ENV[@]}" npm install --no-audit --no-fund --loglevel=error \
      --prefix "$NPM_TMP" "openai@$OPENAI_SDK_VERSION" "@anthropic-ai/sdk@$ANTHROPIC_SDK_VERSION" \
      >"$WORK/npm.out" 2>"$WORK/npm.err"; then
    rm -rf "$NPM_TMP"
    fail "npm install of openai@$OPENAI_SDK_VERSION @anthropic-ai/sdk@$ANTHROPIC_SDK_VERSION into $NPM_DIR failed: $(grep -v 'Unknown user config' "$WORK/npm.err" | tail -20)"
    finish
    exit 1
  fi
  rm -rf "$NPM_DIR"
  mv "$NPM_TMP" "$NPM_DIR"
fi
expect_eq "$(installed_version openai)/$(installed_version @anthropic-ai/sdk)" \
  "$OPENAI_SDK_VERSION/$ANTHROPIC_SDK_VERSION" "pinned SDK versions installed"

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
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*' 'text-embedding-*'
expect_exit 0 "anthropic upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add amock --kind anthropic \
  --base-url "http://127.0.0.1:$MOCK" --api-key-env KEY --models 'claude-*'
expect_exit 0 "key" x420 keys create --name sdk-test -q
KEY=$OUT

start_listener "$WORK/serve.out" "$WORK/serve.log" "$X420_BIN" serve --listen 127.0.0.1:0 || { finish; exit 1; }
SERVE_PID=$LAST_PID
URL="http://127.0.0.1:$PORT"

CONTENT="$PROMPT_CANARY: debug this please. aws $AWS github $GH anthropic $ANT end"
# Quotes and a backslash, so the tool-call arguments (a JSON string inside a JSON string) carry
# escapes next to the placeholders.
TOOL_CONTENT="CALLTOOL run \"aws s3 ls --key $AWS\" then C:\\tmp with $GH and $ANT"

# sdk SECONDS SCENARIO...: runs the scenarios of sdk_client.mjs in one node process (killed
# after SECONDS; each SDK request times out after 10 s), in a clean SDK environment, and keeps
# each one's JSON line for `use`. Fails when node itself fails.
declare -A RESULT
sdk() {
  local seconds=$1
  shift
  run env -u OPENAI_ORG_ID -u OPENAI_PROJECT_ID -u OPENAI_LOG -u ANTHROPIC_AUTH_TOKEN \
    -u ANTHROPIC_CUSTOM_HEADERS -u ANTHROPIC_LOG -u NODE_OPTIONS \
    SDK_NPM_DIR="$NPM_DIR" SDK_TIMEOUT_MS=10000 PROMPT="$CONTENT" TOOL_PROMPT="$TOOL_CONTENT" \
    OPENAI_BASE_URL="$URL/v1" OPENAI_API_KEY="$KEY" ANTHROPIC_BASE_URL="$URL" ANTHROPIC_API_KEY="$KEY" \
    timeout "$seconds" node "$CLIENT" "$@"
  [[ $RC -eq 0 ]] || fail "sdk_client.mjs $*: exit $RC, stderr: $ERR"
  local line
  while IFS= read -r line; do
    if [[ $line =~ ^\{\"scenario\":\"([^\"]*)\" ]]; then RESULT[${BASH_REMATCH[1]}]=$line; fi
  done <<<"$OUT"
}
# use SCENARIO: sets $OUT to that scenario's JSON line, and F to its leaves: F[.a.b.0] is the
# value at that path as `jq -r` prints it (one jq run per scenario instead of one per check).
declare -A F
use() {
  OUT=${RESULT[$1]:-}
  [[ -n $OUT ]] || { fail "$1: no result from sdk_client.mjs"; OUT='{"ok":false,"error":{"message":"no result"}}'; }
  F=()
  local k v
  while IFS= read -r -d '' k && IFS= read -r -d '' v; do F[$k]=$v; done < <(jq -j '
    paths(type != "object" and type != "array") as $p
    | ".\($p | map(tostring) | join("."))\u0000\(getpath($p) | if type == "string" then . else tojson end)\u0000"' <<<"$OUT")
}
# f PATH: the value at that path of the current scenario's JSON ("null" when there is none).
f() { printf '%s' "${F[$1]-null}"; }
# expect_ok SCENARIO: the SDK call succeeded.
expect_ok() {
  if [[ $(f .ok) == true ]]; then pass; else fail "$1: the SDK raised: $(jq -c .error <<<"$OUT" 2>/dev/null || echo "$OUT")"; fi
}
# expect_gt FILTER MIN DESCRIPTION: the number the filter picks from the last JSON is above MIN.
expect_gt() {
  local got
  got=$(f "$1")
  if [[ $got =~ ^[0-9]+$ ]] && ((got > $2)); then pass; else fail "$3: $1 = '$got', wanted > $2 in: $OUT"; fi
}

ERRORS_500=(openai-chat+x-mock-status=500 openai-chat-stream+x-mock-status=500
  anthropic-messages+x-mock-status=500 anthropic-messages-stream+x-mock-status=500)
sdk 60 versions openai-chat openai-chat-stream openai-chat-stream-plain openai-chat-tools openai-chat-stream-tools openai-embeddings \
  openai-responses openai-responses-stream openai-responses-stream-tools openai-models anthropic-messages \
  anthropic-messages-stream anthropic-messages-stream-tools anthropic-count-tokens \
  anthropic-count-tokens+x-mock-usage=1234,0 "${ERRORS_500[@]}"
use versions
echo "node $(f .node), openai $(f .openai), @anthropic-ai/sdk $(f .anthropic)"

# --- OpenAI Chat Completions -----------------------------------------------------------------
use openai-chat
expect_ok "openai chat"
expect_eq "$(f .text)" "$CONTENT" "openai chat: reply restored"
expect_eq "$(f .finish_reason)" "stop" "openai chat: finish_reason"
expect_eq "$(f .redactions)" "3" "openai chat: x420-redactions header"

use openai-chat-stream
expect_ok "openai chat stream"
expect_eq "$(f .text)" "$CONTENT" "openai chat stream: joined deltas restored"
expect_gt .chunks 5 "openai chat stream: several chunks"
expect_eq "$(f .finish_reason)" "stop" "openai chat stream: finish_reason"
expect_gt .usage.prompt_tokens 0 "openai chat stream: include_usage chunk passed on"

# The proxy adds stream_options.include_usage upstream (to settle the cost); a client that did
# not ask for usage must not get its results: no "usage": null on every chunk and no last chunk
# with "choices": [], which OpenAI itself never sends then (a tool doing chunk.choices[0].delta
# crashes on that chunk). Fixed in issue 10; this is the SDK's view of it.
use openai-chat-stream-plain
expect_ok "openai chat stream without stream_options"
expect_eq "$(f .text)" "$CONTENT" "openai chat stream without stream_options: joined deltas restored"
expect_eq "$(f .chunks_without_choices)" "0" "openai chat stream without stream_options: no chunk without choices (the usage chunk the client did not ask for)"

use openai-chat-tools
expect_ok "openai chat tools"
expect_eq "$(f .finish_reason)" "tool_calls" "openai chat tools: finish_reason"
expect_eq "$(f .name)" "run_command" "openai chat tools: function name"
expect_eq "$(f .parses)" "true" "openai chat tools: arguments are JSON ($(f .arguments))"
expect_eq "$(f .parsed.text)" "$TOOL_CONTENT" "openai chat tools: arguments restored"

use openai-chat-stream-tools
expect_ok "openai chat stream tools"
expect_eq "$(f .finish_reason)" "tool_calls" "openai chat stream tools: finish_reason"
expect_eq "$(f .name)" "run_command" "openai chat stream tools: function name"
expect_gt .deltas 5 "openai chat stream tools: arguments in several deltas"
expect_eq "$(f .parses)" "true" "openai chat stream tools: joined arguments are JSON ($(f .arguments))"
expect_eq "$(f .parsed.text)" "$TOOL_CONTENT" "openai chat stream tools: joined arguments restored"
expect_contains "$(f .arguments)" "$AWS" "openai chat stream tools: real AWS key id in the arguments"

# --- OpenAI Embeddings (the SDK asks for base64 and decodes it) -------------------------------
use openai-embeddings
expect_ok "openai embeddings"
expect_eq "$(f .count)" "1" "openai embeddings: one vector"
expect_eq "$(jq -c .embedding <<<"$OUT")" "[0.0625,-0.125,0.25,-0.5]" "openai embeddings: vector decoded"

# --- OpenAI Responses -------------------------------------------------------------------------
use openai-responses
expect_ok "openai responses"
expect_eq "$(f .text)" "$CONTENT" "openai responses: output_text restored"

use openai-responses-stream
expect_ok "openai responses stream"
expect_eq "$(f .text)" "$CONTENT" "openai responses stream: joined output_text deltas restored"
expect_eq "$(f .done_text)" "$CONTENT" "openai responses stream: output_text.done restored"
expect_eq "$(f .final_text)" "$CONTENT" "openai responses stream: final response (response.completed) restored"
expect_eq "$(f .completed)" "true" "openai responses stream: response.completed seen"

use openai-responses-stream-tools
expect_ok "openai responses stream tools"
expect_eq "$(f .name)" "run_command" "openai responses stream tools: function name"
expect_eq "$(f .parses)" "true" "openai responses stream tools: joined arguments are JSON ($(f .arguments))"
expect_eq "$(f .parsed.text)" "$TOOL_CONTENT" "openai responses stream tools: joined argument deltas restored"
expect_eq "$(jq -r '.done_arguments | fromjson? | .text' <<<"$OUT")" "$TOOL_CONTENT" "openai responses stream tools: arguments.done restored"
expect_eq "$(jq -r '.final_arguments | fromjson? | .text' <<<"$OUT")" "$TOOL_CONTENT" "openai responses stream tools: final function_call restored"

# --- OpenAI Models (IDE tools list models to check a key and fill their model picker) ---------
use openai-models
expect_ok "openai models.list"
[[ $(f .ids.0) != null ]] && pass || fail "openai models.list: no model ids in: $OUT"

# --- Anthropic Messages -----------------------------------------------------------------------
use anthropic-messages
expect_ok "anthropic messages"
expect_eq "$(f .text)" "$CONTENT" "anthropic messages: reply restored"
expect_eq "$(f .stop_reason)" "end_turn" "anthropic messages: stop_reason"
expect_eq "$(f .redactions)" "3" "anthropic messages: x420-redactions header"

use anthropic-messages-stream
expect_ok "anthropic messages stream"
expect_eq "$(f .text)" "$CONTENT" "anthropic messages.stream: joined text deltas restored"
expect_eq "$(f .final_text)" "$CONTENT" "anthropic messages.stream: finalMessage restored"
expect_gt .deltas 5 "anthropic messages.stream: several text deltas"
expect_gt .usage.output_tokens 0 "anthropic messages.stream: usage"

use anthropic-messages-stream-tools
expect_ok "anthropic messages stream tools"
expect_eq "$(f .finish_reason)" "tool_use" "anthropic stream tools: stop_reason"
expect_eq "$(f .name)" "run_command" "anthropic stream tools: tool name"
expect_eq "$(f .parses)" "true" "anthropic stream tools: joined input_json_delta is JSON ($(f .arguments))"
expect_eq "$(f .parsed.text)" "$TOOL_CONTENT" "anthropic stream tools: joined input_json_delta restored"

use anthropic-count-tokens
expect_ok "anthropic count_tokens"
expect_gt .input_tokens 0 "anthropic count_tokens: input_tokens"
use anthropic-count-tokens+x-mock-usage=1234,0
expect_eq "$(f .input_tokens)" "1234" "anthropic count_tokens: the upstream's count passed on"

# --- Errors, mapped to the SDKs' exception classes ---------------------------------------------
for scenario in "${ERRORS_500[@]}"; do
  use "$scenario"
  expect_eq "$(f .ok)/$(f .error.status)" "false/500" "$scenario: upstream 500 raises with status 500"
  expect_eq "$(f .error.is_internal_server_error)" "true" "$scenario: upstream 500 is the SDK's InternalServerError (got $(f .error.class))"
  for c in "${CANARIES[@]}"; do expect_not_contains "$OUT" "$c" "$scenario: upstream 500 error message redacted"; done
done

expect_exit 0 "revoke" x420 keys revoke "${KEY:5:12}"
sleep 1.2
REVOKED=(openai-chat openai-chat-stream anthropic-messages anthropic-messages-stream)
RESULT=()
sdk 30 "${REVOKED[@]}"
for scenario in "${REVOKED[@]}"; do
  use "$scenario"
  expect_eq "$(f .ok)/$(f .error.status)" "false/401" "$scenario: revoked key raises with status 401"
  expect_eq "$(f .error.is_authentication_error)" "true" "$scenario: revoked key is the SDK's AuthenticationError (got $(f .error.class))"
done
expect_eq "$(f .error.type)" "authentication_error" "anthropic-messages-stream: revoked key error type"

# --- What left the machine, and what stayed ------------------------------------------------------
for c in "${CANARIES[@]}"; do
  expect_absent_from_files "$c" "canary secret upstream" "$WORK/upstream.jsonl"
done
expect_absent_from_files "$KEY" "the client's x420 key upstream" "$WORK/upstream.jsonl"
grep -q 'X420_REDACTED_aws_access_key_id_' "$WORK/upstream.jsonl" && pass || fail "upstream got placeholders"
UPSTREAM_PATHS=$(grep -v '"event"' "$WORK/upstream.jsonl" | jq -r .path | sort -u)
for path in /v1/chat/completions /v1/embeddings /v1/responses /v1/messages /v1/messages/count_tokens; do
  grep -qxF "$path" <<<"$UPSTREAM_PATHS" && pass || fail "upstream never got $path (got: $UPSTREAM_PATHS)"
done

kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null && pass || fail "serve exits 0 on SIGTERM"
for c in "${CANARIES[@]}" "$PROMPT_CANARY" "$KEY"; do
  expect_absent_from_files "$c" "canary at rest" "$DB" "$DB-wal" "$WORK/serve.log"
done
finish
