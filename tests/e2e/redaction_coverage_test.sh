#!/usr/bin/env bash
# No secret leaves through the body, whatever field, encoding or shape carries it (issue 11):
# every endpoint, streamed and not, with secrets in messages, keys, ids, tool-call arguments
# (JSON inside JSON, escaped quotes, backslashes and \/), JSON three levels down, secrets hidden by a
# zero-width space, a colour code or percent-encoding, a PEM key cut
# before its END line followed by another secret, a PEM key longer than any match window, a
# secret split across two text parts, base64 documents and data: URLs of text files, and
# x420:allow markers. tests/e2e/leak_check.mjs then searches what the mock upstream received —
# raw bytes, path, query, headers, every decoded JSON string at every level, decoded base64 —
# and the replies must restore each secret for the key that sent it.
source "$(dirname "$0")/lib.sh"

rand() { head -c 900 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
export AWS="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
export GH="ghp_$(rand 36)"
export GL="glpat-$(rand 20)"
export PW="Qz\"7\\\\p/$(rand 14)"  # a password holding a quote, a backslash and a slash
export PW2="k$(rand 6)7x$(rand 6)x4$(rand 6)"  # mid-sentence, as the issue's DB_PASSWORD example
export PEM_BODY="MIIEow$(rand 58)"
start_mock_upstream || { finish; exit 1; }

expect_exit 0 "init" x420 init -q
expect_exit 0 "openai upstream" env KEY="sk-up-$(rand 24)" "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*' 'text-*'
expect_exit 0 "anthropic upstream" env KEY="sk-up-$(rand 24)" "$X420_BIN" upstreams add amock --kind anthropic \
  --base-url "http://127.0.0.1:$MOCK" --api-key-env KEY --models 'claude-*'
expect_exit 0 "key" x420 keys create --name coverage -q
KEY=$OUT
expect_exit 0 "block key" x420 keys create --name coverage-block --redact block -q
KEY_BLOCK=$OUT
start_serve || { finish; exit 1; }

# The bodies, built by node so every level of escaping is exact.
mkdir -p "$WORK/bodies"
node - "$WORK/bodies" <<'JS' || fail "building the bodies"
const fs = require('fs');
const dir = process.argv[2];
const { AWS, GH, GL, PW, PW2, PEM_BODY } = process.env;
const b64 = (s) => Buffer.from(s).toString('base64');
const env = `DEBUG=1\nAWS_ACCESS_KEY_ID=${AWS}\nGITLAB_TOKEN=${GL}\n`;
const pemLine = (i) => PEM_BODY.slice(0, 60) + String(i % 10).repeat(4);
const pemCut = '-----BEGIN RSA PRIVATE KEY-----\n' + Array.from({ length: 12 }, (_, i) => pemLine(i)).join('\n') + '\n[output truncated]';
const pemLong = '-----BEGIN OPENSSH PRIVATE KEY-----\n' + Array.from({ length: 400 }, (_, i) => pemLine(i)).join('\n') +
  '\n-----END OPENSSH PRIVATE KEY-----';
const args = JSON.stringify({ url: `https://x-access-token:${GH}@github.com/o/r`, db: { password: PW },
  nested: JSON.stringify({ deeper: JSON.stringify({ aws: AWS }) }) }).replace(/\//g, '\\/');
const chat = (stream) => ({ model: 'gpt-4o', stream, messages: [
  { role: 'system', content: `tools token ${GL} x420:allow` },
  { role: 'user', content: [{ type: 'text', text: `my key is ${AWS.slice(0, 9)}` }, { type: 'text', text: `${AWS.slice(9)} ok` },
    { type: 'file', file: { filename: '.env', file_data: 'data:text/plain;base64,' + b64(env) } },
    { type: 'file', file: { file_data: b64(env) } }] },
  { role: 'assistant', content: null, tool_calls: [{ id: GH, type: 'function', function: { name: 'deploy', arguments: args } }] },
  { role: 'tool', tool_call_id: GH, content: pemCut },
  { role: 'user', content: pemLong },
  { role: 'user', content: `hidden ${GH.slice(0, 7)}\u200b${GH.slice(7)}, coloured ${AWS.slice(0, 5)}\u001b[31m${AWS.slice(5)}\u001b[0m, encoded %41${AWS.slice(1)}` },
  { role: 'user', content: `and ${AWS} again`, [GL]: 'a key named after a secret' }] });
const responses = (stream) => ({ model: 'gpt-4o', stream, instructions: `use ${GL}`, input: [
  { role: 'user', content: [{ type: 'input_text', text: `split ${GH.slice(0, 10)}` }, { type: 'input_text', text: GH.slice(10) },
    { type: 'input_file', filename: 'c.json', file_data: 'data:application/json;base64,' + b64(JSON.stringify({ token: GL })) }] },
  { type: 'function_call', call_id: AWS, name: 'deploy', arguments: args },
  { type: 'function_call_output', call_id: AWS, output: pemCut }] });
const messages = (stream) => ({ model: 'claude-sonnet-4-5', max_tokens: 64, stream, system: [{ type: 'text', text: `ops ${GL}` }],
  messages: [{ role: 'user', content: [
    { type: 'document', source: { type: 'base64', media_type: 'text/plain', data: b64(env) } },
    { type: 'text', text: `split ${AWS.slice(0, 12)}` }, { type: 'text', text: `${AWS.slice(12)} end` }] },
  { role: 'assistant', content: [{ type: 'tool_use', id: GH, name: 'deploy', input: { [AWS]: 'a key named after a secret', password: PW, args } }] },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: GH, content: pemCut }] }] });
const write = (name, body) => fs.writeFileSync(`${dir}/${name}.json`, JSON.stringify(body));
write('chat', chat(false)); write('chat-stream', chat(true));
write('responses', responses(false)); write('responses-stream', responses(true));
write('messages', messages(false)); write('messages-stream', messages(true));
const count = messages(false); delete count.max_tokens; delete count.stream; write('count_tokens', count);
write('completions', { model: 'gpt-3.5-turbo-instruct', prompt: [`complete ${AWS}`, args], suffix: `my password is "${PW}" ok` });
write('completions-stream', { model: 'gpt-3.5-turbo-instruct', stream: true, prompt: `my config has DB_PASSWORD=${PW2} please fix` });
write('embeddings', { model: 'text-embedding-3-small', input: [`embed ${GH}`, args, pemLong] });
JS

post() {  # ROUTE BODY-FILE [KEY]: the reply on stdout
  curl -s -N --max-time 20 -H "Authorization: Bearer ${3:-$KEY}" -H 'content-type: application/json' \
    --data-binary "@$WORK/bodies/$2.json" "$URL$1"
}
status() {  # ROUTE BODY-FILE: the HTTP status, the reply in $WORK/reply-BODY-FILE.txt
  curl -s -N --max-time 20 -o "$WORK/reply-$2.txt" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
    -H 'content-type: application/json' --data-binary "@$WORK/bodies/$2.json" "$URL$1"
}
for pair in /v1/chat/completions:chat /v1/chat/completions:chat-stream /v1/responses:responses \
            /v1/responses:responses-stream /v1/messages:messages /v1/messages:messages-stream \
            /v1/messages/count_tokens:count_tokens /v1/completions:completions \
            /v1/completions:completions-stream /v1/embeddings:embeddings; do
  route=${pair%%:*} name=${pair##*:}
  expect_eq "$(status "$route" "$name")" "200" "$name through $route"
done
expect_eq "$(grep -c '"method":"POST"' "$WORK/upstream.jsonl")" "10" "every request went upstream"

# Nothing of any secret in anything the upstream received.
run node "$X420_SOURCE_DIR/tests/e2e/leak_check.mjs" "$WORK/upstream.jsonl" "$AWS" "$GH" "$GL" "$PW" "$PW2" "$PEM_BODY" \
  "${AWS:9}" "${GH:10}" "${AWS:12}"
expect_eq "$RC" "0" "no secret reached the upstream: $(tr '\n' ';' <<<"$OUT")"

# The mock echoes the user's text: the key that sent the secrets gets them back.
expect_contains "$(jq -r '.choices[0].message.content' "$WORK/reply-chat.txt")" "and $AWS again" "chat: restored for its key"
expect_contains "$(cat "$WORK/reply-messages-stream.txt")" "text_delta" "messages: streamed"

# Block mode refuses each of those bodies, naming rules and offsets but no secret.
for name in chat responses messages embeddings completions; do
  route=/v1/$name; [[ $name == chat ]] && route=/v1/chat/completions
  OUT=$(post "$route" "$name" "$KEY_BLOCK")
  expect_contains "$OUT" "holds secrets and was not forwarded" "block: $name refused"
  for s in "$AWS" "$GH" "$GL"; do expect_not_contains "$OUT" "$s" "block: $name names no secret"; done
done
expect_eq "$(grep -c '"method":"POST"' "$WORK/upstream.jsonl")" "10" "block: nothing forwarded"

# Bodies x420 cannot fully scan are refused, never forwarded.
bad() {  # DESCRIPTION BODY WANT-IN-MESSAGE
  local out; out=$(curl -s --max-time 10 -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
    --data-binary "$2" "$URL/v1/chat/completions" | jq -r .error.message)
  expect_contains "$out" "$3" "$1"
}
bad "duplicate key" '{"model":"gpt-4o","messages":[{"role":"user","content":"a","content":"b"}]}' 'twice in one object ("content")'
bad "text document that is not base64" '{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/plain;base64,QUJD="}}]}]}' "does not decode"
DEEP='{"k":1}'
for _ in 1 2 3 4 5; do DEEP=$(jq -cn --arg s "$DEEP" '{a: $s}'); done
bad "JSON inside strings five levels down" "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":$(jq -c '.a' <<<"$DEEP")}]}" "levels deep"
expect_eq "$(grep -c '"method":"POST"' "$WORK/upstream.jsonl")" "10" "refused bodies: nothing forwarded"
expect_absent_from_files "$AWS" "no secret in the log or the store" "$WORK/serve.log" "$DB"
finish
