#!/usr/bin/env bash
# x420 upstreams update and test: a provider's key, URL and model globs changed in place, on the
# embedded store and through a running serve's admin API; a running serve sends the new key from
# the next request on; `upstreams test` asks the provider for its models with its key and exits by
# what it found. No key reaches stdout, stderr or the serve log.
source "$(dirname "$0")/lib.sh"

rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
OLD_SECRET="sk-old-$(rand 30)"
NEW_SECRET="sk-new-$(rand 30)"
REMOTE_SECRET="sk-remote-$(rand 30)"
auth_hash() { printf 'Bearer %s' "$1" | sha256sum | cut -c1-64; }

expect_exit 0 "init" x420 init --json
OPERATOR=$(jq -r .operator_token <<<"$OUT")
start_mock_upstream || { finish; exit 1; }
expect_exit 0 "add" env KEY="$OLD_SECRET" "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'

# test: a provider that answers, one refused at connect, one that has no such path.
expect_exit 0 "upstreams test" x420 upstreams test mock
expect_contains "$OUT" "ok: mock answers in" "says it answers"
expect_exit 0 "upstreams test --json" x420 upstreams test mock --json
jq -e '.ok and (.models | length > 0) and (.routed_by_globs | all(startswith("gpt-")))' <<<"$OUT" >/dev/null && pass ||
  fail "test --json lists the models and those its globs route: $OUT"
expect_eq "$(jq -r 'select(.path == "/v1/models") | .auth_sha256' "$WORK/upstream.jsonl" | tail -1)" "$(auth_hash "$OLD_SECRET")" \
  "the test asked with the upstream's own key"
expect_exit 0 "a dead one" env KEY="$OLD_SECRET" "$X420_BIN" upstreams add dead --kind openai \
  --base-url "http://127.0.0.1:9/v1" --api-key-env KEY
expect_exit 5 "test of an unreachable upstream" x420 upstreams test dead
expect_contains "$ERR" "cannot reach http://127.0.0.1:9/v1" "names the cause"
expect_exit 4 "test of an unknown upstream" x420 upstreams test nosuch
expect_contains "$ERR" "no upstream named nosuch" "names it"

# update on the embedded store: the URL of the dead one, then mock's key.
expect_exit 0 "update the URL" x420 upstreams update dead --base-url "http://127.0.0.1:$MOCK/v1/" --json
expect_eq "$(jq -r .base_url <<<"$OUT")" "http://127.0.0.1:$MOCK/v1" "the URL changed (trailing slash dropped)"
expect_exit 0 "now it answers" x420 upstreams test dead
expect_exit 2 "nothing to change" x420 upstreams update mock
expect_contains "$ERR" "nothing to change" "says what it needs"
expect_exit 2 "a URL in clear text" x420 upstreams update mock --base-url http://api.example.com/v1
expect_contains "$ERR" "clear text" "refuses plain http to another host"
expect_exit 4 "an unknown upstream" x420 upstreams update nosuch --models 'x*'
expect_exit 2 "--models and --no-models" x420 upstreams update mock --models 'a*' --no-models

# A running serve: the old key first, the new one from the next request after the update.
expect_exit 0 "key" x420 keys create --name up -q
KEY=$OUT
start_serve
chat() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
    "$URL/v1/chat/completions" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'
}
last_chat_auth() { jq -r 'select(.path == "/v1/chat/completions") | .auth_sha256' "$WORK/upstream.jsonl" | tail -1; }
expect_eq "$(chat)" "200" "a request through serve"
expect_eq "$(last_chat_auth)" "$(auth_hash "$OLD_SECRET")" "serve sends the old key"
expect_exit 0 "update the key locally" env KEY="$NEW_SECRET" "$X420_BIN" upstreams update mock --api-key-env KEY
sleep 1.2  # another process's change: serve's upstream cache holds rows for a second
expect_eq "$(chat)" "200" "a request after the update"
expect_eq "$(last_chat_auth)" "$(auth_hash "$NEW_SECRET")" "serve sends the new key within a second"

# Through the admin API (--server): seen at once, and the globs change too.
expect_exit 0 "update through serve" bash -c "printf '%s\n' '$REMOTE_SECRET' | X420_SERVER='$URL' X420_TOKEN='$OPERATOR' '$X420_BIN' upstreams update mock --api-key-stdin --models 'gpt-*' 'o*' --json"
expect_eq "$(jq -c .models <<<"$OUT")" '["gpt-*","o*"]' "the globs changed"
expect_eq "$(chat)" "200" "a request after the remote update"
expect_eq "$(last_chat_auth)" "$(auth_hash "$REMOTE_SECRET")" "serve sends the key set through its admin API at once"
expect_exit 2 "upstreams test wants the embedded store" env X420_SERVER="$URL" X420_TOKEN="$OPERATOR" "$X420_BIN" upstreams test mock
expect_exit 0 "--no-models" x420 upstreams update mock --no-models --json
expect_eq "$(jq -c .models <<<"$OUT")" '[]' "no globs"
sleep 1.2
expect_eq "$(chat)" "404" "gpt-4o routes nowhere without the glob"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  "$URL/v1/chat/completions" -d '{"model":"mock/gpt-4o","messages":[{"role":"user","content":"hi"}]}')" "200" "mock/gpt-4o still does"

# /v1/models lists what the upstream lists: bare where a glob routes it, and as NAME/id.
expect_exit 0 "globs that match the mock's ids" x420 upstreams update mock --models 'mock-g*' -q
expect_exit 0 "and the other one has none" x420 upstreams update dead --no-models -q
sleep 1.2
MODELS=$(curl -s --max-time 20 -H "Authorization: Bearer $KEY" "$URL/v1/models")
expect_eq "$(jq -r '[.data[].id] | sort | join(",")' <<<"$MODELS")" \
  "dead/mock-claude,dead/mock-embedding,dead/mock-gpt,mock-gpt,mock/mock-claude,mock/mock-embedding,mock/mock-gpt" \
  "/v1/models lists the upstreams' own ids"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  "$URL/v1/chat/completions" -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}')" "200" "a listed bare id routes"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  "$URL/v1/chat/completions" -d '{"model":"dead/mock-claude","messages":[{"role":"user","content":"hi"}]}')" "200" "a listed NAME/id routes"
asked=$(jq -r 'select(.path == "/v1/models") | .id' "$WORK/upstream.jsonl" | wc -l)
curl -s -o /dev/null --max-time 20 -H "Authorization: Bearer $KEY" "$URL/v1/models"
expect_eq "$(jq -r 'select(.path == "/v1/models") | .id' "$WORK/upstream.jsonl" | wc -l)" "$asked" "the lists are kept, not asked again"

kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
for secret in "$OLD_SECRET" "$NEW_SECRET" "$REMOTE_SECRET"; do
  expect_absent_from_files "$secret" "an upstream key reached a log" "$WORK/serve.log" "$WORK/stderr" "$DB"
done

finish
