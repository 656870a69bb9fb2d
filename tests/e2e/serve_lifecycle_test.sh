#!/usr/bin/env bash
# x420 serve's lifecycle: refusing to expose itself without TLS, serving TLS with a given
# certificate, reloading rule files on SIGHUP, and draining an in-flight stream on SIGTERM
# before exiting 0 with its usage row written.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { fail "node is needed for the mock upstream (apt-get install nodejs)"; finish; }
command -v openssl >/dev/null || { fail "openssl is needed to make a test certificate"; finish; }

expect_exit 0 "init" x420 init -q
expect_exit 0 "key" x420 keys create --name life -q
KEY=$OUT

# With no upstream, serve says so at start.
start_serve
expect_contains "$(cat "$WORK/serve.log")" "warning: no upstreams" "serve warns that it has nowhere to forward"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true

expect_exit 2 "non-loopback without TLS is refused" x420 serve --listen 0.0.0.0:0
expect_contains "$ERR" "--tls-cert" "says how to serve it safely"
expect_exit 2 "a bad --listen" x420 serve --listen nowhere:80
expect_exit 2 "--tls-cert without --tls-key" x420 serve --listen 127.0.0.1:0 --tls-cert "$WORK/none.pem"

# TLS with a self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
start_listener "$WORK/tls.out" "$WORK/tls.err" "$X420_BIN" serve --listen 127.0.0.1:0 \
  --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" || { finish; exit 1; }
TLS_PID=$LAST_PID
expect_eq "$(curl -s --cacert "$WORK/cert.pem" "https://127.0.0.1:$PORT/healthz")" '{"status":"ok"}' "healthz over TLS"
VERSION=$(curl -s -o /dev/null -w '%{ssl_verify_result} %{http_version}' --cacert "$WORK/cert.pem" "https://127.0.0.1:$PORT/healthz")
expect_eq "${VERSION%% *}" "0" "certificate verifies"
HANDSHAKE=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 2>&1 || true)
grep -q 'TLSv1.3' <<<"$HANDSHAKE" && pass || fail "TLS 1.3 is offered"
HANDSHAKE=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 2>&1 || true)
grep -q 'alert protocol version\|no peer certificate\|unsupported protocol' <<<"$HANDSHAKE" && pass || fail "TLS 1.1 is refused"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" "000" "plain HTTP on the TLS port gets nothing"
kill -TERM "$TLS_PID"; wait "$TLS_PID" 2>/dev/null
expect_eq "$?" "0" "TLS server exits 0 on SIGTERM"

# SIGHUP reloads --rules files; a broken file keeps the running rules.
start_listener "$WORK/mock.out" "$WORK/mock.err" node "$X420_SOURCE_DIR/tests/mock_upstream/server.js" \
  --port 0 --record "$WORK/upstream.jsonl" --max-seconds 120 || { finish; exit 1; }
MOCK=$PORT
expect_exit 0 "upstream" env K=sk-upstream-lifecycle "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env K --models 'gpt-*'
cat >"$WORK/rules.toml" <<'TOML'
[[rule]]
id = "acme.first"
description = "first version"
keywords = ["acmeone_"]
regex = 'acmeone_[a-z0-9]{12}'
examples = ["acmeone_q8v2m0x7r4k9"]
negative_examples = ["acmeone_x"]
TOML
start_listener "$WORK/serve.out" "$WORK/serve.log" "$X420_BIN" serve --listen 127.0.0.1:0 --rules "$WORK/rules.toml" || { finish; exit 1; }
SERVE_PID=$LAST_PID
URL="http://127.0.0.1:$PORT"
ask() { curl -s -D "$WORK/h" -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  "$URL/v1/chat/completions" -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"$1\"}]}"; grep -i '^x420-redactions' "$WORK/h" | tr -d '\r' | awk '{print $2}'; }
expect_eq "$(ask 'use acmeone_q8v2m0x7r4k9 and acmetwo_q8v2m0x7r4k9')" "1" "first rule file: one custom secret"
sed -i 's/acmeone_/acmetwo_/g; s/first version/second version/' "$WORK/rules.toml"
kill -HUP "$SERVE_PID"; sleep 1.5
expect_eq "$(ask 'use acmeone_q8v2m0x7r4k9 and acmetwo_q8v2m0x7r4k9')" "1" "after SIGHUP the new rule applies"
expect_contains "$(cat "$WORK/serve.log")" "reloaded" "reload is logged"
printf '[[rule]]\nid = "broken"\nregex = "(unclosed"\n' >"$WORK/rules.toml"
kill -HUP "$SERVE_PID"; sleep 1.5
expect_contains "$(cat "$WORK/serve.log")" "keeping the current rules" "a broken file keeps the running rules"
expect_eq "$(ask 'use acmetwo_q8v2m0x7r4k9')" "1" "old rules still in force"

# SIGTERM while a stream is in flight: it completes, the row is written, exit 0.
curl -s -N -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -H 'x-mock-chunk-delay-ms: 150' \
  "$URL/v1/chat/completions" -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a fairly long reply to stream slowly"}]}' \
  >"$WORK/stream.txt" &
CURL_PID=$!
sleep 0.5
kill -TERM "$SERVE_PID"
wait "$CURL_PID"
wait "$SERVE_PID" 2>/dev/null
expect_eq "$?" "0" "serve exits 0 after draining"
expect_contains "$(cat "$WORK/stream.txt")" "data: [DONE]" "the in-flight stream finished"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM usage_events WHERE status = 200 AND output_tokens > 0")" "4" "every request's usage row written, the drained one too"

finish
