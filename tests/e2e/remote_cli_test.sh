#!/usr/bin/env bash
# The CLI against a running `x420 serve` (X420_SERVER or --server, the token from X420_TOKEN or
# the credentials file): the key lifecycle, tenants, upstreams and usage print the same and exit
# the same as on the embedded store (both modes use one store, so read-only commands must match
# byte for byte); a tenant admin's token reaches its own tenant only; no token is exit 3, a
# server that is not there exit 5; and no token, key or upstream secret reaches the server's log.
source "$(dirname "$0")/lib.sh"

rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }

expect_exit 0 "init" x420 init
OPERATOR=$OUT
start_listener "$WORK/serve.out" "$WORK/serve.log" "$X420_BIN" serve --listen 127.0.0.1:0 || { finish; exit 1; }
SERVER=http://127.0.0.1:$PORT
SERVE_PID=$LAST_PID
TOKEN=$OPERATOR
SECRETS=("$OPERATOR")

# cli ARGS...: x420 on the embedded store, or (MODE=remote) through the server with $TOKEN.
cli() {
  if [[ ${MODE:-local} == remote ]]; then
    X420_SERVER=$SERVER X420_TOKEN=$TOKEN "$X420_BIN" "$@"
  else
    "$X420_BIN" "$@"
  fi
}
remote() { MODE=remote cli "$@"; }
verify() { printf '%s\n' "$1" | cli keys verify "${@:2}"; }

# same DESCRIPTION CMD...: stdout, stderr and exit code are the same in both modes.
same() {
  local what=$1 lo le lr
  shift
  MODE=local run "$@"
  lo=$OUT le=$ERR lr=$RC
  MODE=remote run "$@"
  expect_eq "$RC" "$lr" "$what: exit code"
  expect_eq "$OUT" "$lo" "$what: stdout"
  expect_eq "$ERR" "$le" "$what: stderr"
}

# --- the key lifecycle ---------------------------------------------------------------------
expect_exit 0 "create" remote keys create --name laptop
KEY=$OUT
SECRETS+=("$KEY")
[[ $KEY =~ ^x420_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$ ]] && pass || fail "create prints only the key on stdout: '$OUT'"
expect_contains "$ERR" "will not show it again" "create explains show-once"
ID=${KEY:5:12}

same "list" cli keys list
same "list --json" cli keys list --json
same "show" cli keys show "$ID"
same "show --json" cli keys show "$ID" --json
expect_eq "$(jq -r 'has("key") or has("hash")' <<<"$OUT")" "false" "show --json has no key or hash"
same "verify a new key" verify "$KEY"
expect_contains "$OUT" "valid: key $ID" "verify names the key"
same "verify -q" verify "$KEY" -q
same "verify --json" verify "$KEY" --json

expect_exit 0 "create --json, local" x420 keys create --name ci --expires 30d --rpm 60 --tpm 5000 --cap-usd 12.50 --no-log --json
LOCAL_DOC=$OUT
SECRETS+=("$(json_field "$OUT" key)")
expect_exit 0 "create --json, remote" remote keys create --name ci --expires 30d --rpm 60 --tpm 5000 --cap-usd 12.50 --no-log --json
SECRETS+=("$(json_field "$OUT" key)")
strip='del(.id, .key, .created_at, .expires_at)'
expect_eq "$(jq -c "$strip" <<<"$OUT")" "$(jq -c "$strip" <<<"$LOCAL_DOC")" "create --json: the same document"
expect_eq "$(jq -r 'keys_unsorted | join(",")' <<<"$OUT")" "$(jq -r 'keys_unsorted | join(",")' <<<"$LOCAL_DOC")" "create --json: the same fields"
expect_eq "$(json_field "$OUT" cap_usd)/$(json_field "$OUT" rpm)/$(json_field "$OUT" no_log)" "12.5/60/true" "limits sent"

expect_exit 0 "rotate with grace" remote keys rotate "$ID" --grace 2s
NEW=$OUT
SECRETS+=("$NEW")
[[ $NEW == x420_${ID}_* && $NEW != "$KEY" ]] && pass || fail "rotate keeps the id and changes the secret"
expect_contains "$ERR" "previous secret keeps working until" "rotate names the grace end"
same "old key within grace" verify "$KEY"
expect_eq "$RC" "0" "old key works within grace"
sleep 2.5
same "old key after grace" verify "$KEY"
expect_eq "$RC" "3" "old key refused after grace"
expect_contains "$ERR" "grace period has ended" "verify says why"

expect_exit 0 "rotate without grace" remote keys rotate "$ID" -q
NEWER=$OUT
SECRETS+=("$NEWER")
same "previous key after rotate --grace 0" verify "$NEW"
expect_eq "$RC" "3" "previous key refused at once"

expect_exit 0 "revoke" remote keys revoke "$ID"
expect_contains "$ERR" "Revoked key $ID" "revoke says so"
same "revoked key" verify "$NEWER"
expect_contains "$ERR" "revoked" "verify says revoked"
same "show revoked --json" cli keys show "$ID" --json
expect_eq "$(json_field "$OUT" status)" "revoked" "status after revoke"
same "revoke twice" cli keys revoke "$ID" --json
same "rotate a revoked key" cli keys rotate "$ID"
expect_eq "$RC" "2" "rotate a revoked key: exit 2"
same "unknown id" cli keys show AAAAAAAAAAAA
expect_eq "$RC" "4" "unknown id: exit 4"
same "unknown id --json" cli keys show AAAAAAAAAAAA --json
expect_eq "$(jq -r .error.kind <<<"$ERR")" "not_found" "JSON error kind"
same "not an id" cli keys show nonsense
expect_eq "$RC" "2" "not an id: exit 2"
BROKEN=${NEW%?}$([[ ${NEW: -1} == A ]] && echo B || echo A)
same "wrong checksum" verify "$BROKEN"
expect_contains "$ERR" "checksum" "verify names the checksum"
same "no key on stdin" verify ""
expect_eq "$RC" "2" "no key on stdin: exit 2"

# --- tenants, and what a tenant admin's token reaches -----------------------------------------
expect_exit 0 "tenants create" remote tenants create acme
ACME=$OUT
SECRETS+=("$ACME")
[[ $ACME =~ ^x420m_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$ ]] && pass || fail "tenant create prints the admin token"
same "duplicate tenant" cli tenants create acme
expect_contains "$ERR" "already exists" "names the conflict"
same "bad tenant name" cli tenants create "Not Valid"
expect_eq "$RC" "2" "bad tenant name: exit 2"
expect_exit 0 "default key" remote keys create --name victim -q
VICTIM=$OUT
SECRETS+=("$VICTIM")

TOKEN=$ACME
expect_exit 0 "tenant admin: own key" remote --tenant acme keys create --name a1
SECRETS+=("$OUT")
expect_exit 4 "tenant admin: other tenant's keys" remote keys list
expect_exit 4 "tenant admin: other tenant's key" remote keys show "${VICTIM:5:12}"
expect_exit 4 "tenant admin: revoke other tenant's key" remote keys revoke "${VICTIM:5:12}"
expect_exit 4 "tenant admin: revoke it through its own tenant" remote --tenant acme keys revoke "${VICTIM:5:12}"
MODE=remote run verify "$VICTIM"
expect_eq "$RC" "3" "tenant admin: another tenant's key does not verify"
expect_exit 3 "tenant admin: create a tenant" remote tenants create evil
expect_contains "$ERR" "operator token" "says who may"
expect_exit 0 "tenant admin: tenants list" remote tenants list --json
expect_eq "$(jq -r 'map(.name) | join(",")' <<<"$OUT")" "acme" "tenant admin sees its tenant only"
TOKEN=$OPERATOR
expect_exit 0 "victim untouched" verify "$VICTIM"

same "tenants list" cli tenants list
same "tenants list --json" cli tenants list --json
expect_eq "$(jq -r 'map(.name) | join(",")' <<<"$OUT")" "acme,default" "operator sees all"
expect_exit 2 "delete without --yes" remote tenants delete acme </dev/null
expect_exit 0 "tenants delete" remote tenants delete acme --yes
expect_contains "$ERR" "Deleted tenant acme and its 1 key(s)." "delete reports what went"
TOKEN=$ACME
expect_exit 3 "deleted tenant's token" remote --tenant acme keys list
TOKEN=$OPERATOR
same "delete again" cli tenants delete acme --yes
expect_eq "$RC" "4" "delete again: exit 4"

# --- upstreams: the secret goes in once and never comes back ------------------------------------
UPSTREAM_SECRET="sk-upstream-$(rand 30)"
SECRETS+=("$UPSTREAM_SECRET")
export UPSTREAM_KEY=$UPSTREAM_SECRET
expect_exit 0 "upstreams add" remote upstreams add mock --kind openai --base-url "http://127.0.0.1:9/v1" \
  --api-key-env UPSTREAM_KEY --models 'gpt-*' 'o*'
expect_contains "$ERR" "sealed" "add says the key is sealed"
expect_not_contains "$OUT$ERR" "$UPSTREAM_SECRET" "add does not echo the secret"
run bash -c "printf '%s\n' '$UPSTREAM_SECRET' | X420_SERVER=$SERVER X420_TOKEN=$OPERATOR '$X420_BIN' upstreams add amock --kind anthropic --base-url http://127.0.0.1:9 --api-key-stdin --json"
expect_eq "$RC" "0" "upstreams add --api-key-stdin"
expect_eq "$(jq -r 'has("api_key")' <<<"$OUT")" "false" "add --json has no api_key"
expect_not_contains "$OUT$ERR" "$UPSTREAM_SECRET" "add --json does not echo the secret"
same "upstreams list" cli upstreams list
same "upstreams list --json" cli upstreams list --json
expect_not_contains "$OUT" "$UPSTREAM_SECRET" "list does not show the secret"
same "duplicate upstream" cli upstreams add mock --kind openai --base-url "http://127.0.0.1:9/v1" --api-key-env UPSTREAM_KEY
expect_eq "$RC" "2" "duplicate upstream: exit 2"
same "plain http upstream" cli upstreams add far --kind openai --base-url "http://example.com/v1" --api-key-env UPSTREAM_KEY
expect_eq "$RC" "2" "plain http upstream: exit 2"
expect_exit 0 "upstreams remove" remote upstreams remove amock
same "remove again" cli upstreams remove amock
expect_eq "$RC" "4" "remove again: exit 4"

# --- usage: one request through the proxy, then its rows both ways ------------------------------
expect_exit 0 "inference key" remote keys create --name proxy -q
PKEY=$OUT
SECRETS+=("$PKEY")
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $PKEY" \
  -H "content-type: application/json" "$SERVER/v1/chat/completions" \
  -d '{"model":"mock/gpt-4o","messages":[{"role":"user","content":"hi"}]}')
expect_eq "$STATUS" "502" "a request to the dead upstream"
for _ in $(seq 50); do  # usage rows are written off the I/O thread
  [[ $(x420 usage --json | jq length) -ge 1 ]] && break
  sleep 0.1
done
GEN=$(x420 usage --json | jq -r '.[0].id')
[[ $GEN == gen-* ]] && pass || fail "a usage row for the request"
same "usage" cli usage
same "usage --json" cli usage --json
expect_eq "$(jq -r '.[0].key_id' <<<"$OUT")" "${PKEY:5:12}" "usage lists the request"
same "usage --key" cli usage --key "${PKEY:5:12}" --since 1h --json
same "usage --limit" cli usage --limit 1 --json
same "generation" cli generation "$GEN"
same "generation --json" cli generation "$GEN" --json
expect_eq "$(json_field "$OUT" status)" "502" "the dead upstream's status"
same "unknown generation" cli generation gen-nothing
expect_eq "$RC" "4" "unknown generation: exit 4"
same "empty generation id" cli generation ""
same "empty key id" cli keys show ""
same "empty tenant" cli --tenant "" keys list

# --- the raw API, for scripts that skip the CLI -------------------------------------------------
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/x420/v1/tenants")" "401" "API without a token"
expect_eq "$(curl -s -H "Authorization: Bearer $OPERATOR" "$SERVER/x420/v1/tenants" | jq -c .)" \
  "$(x420 tenants list --json | jq -c .)" "API answers with the CLI's JSON"

# --- where the token comes from, and when it is missing -----------------------------------------
expect_exit 3 "no token" env X420_SERVER="$SERVER" "$X420_BIN" keys list
expect_contains "$ERR" "X420_TOKEN" "says where a token goes"
expect_exit 3 "wrong token" env X420_SERVER="$SERVER" X420_TOKEN="x420m_AAAAAAAAAAAA_$(rand 38)" "$X420_BIN" keys list
expect_exit 3 "an API key as token" env X420_SERVER="$SERVER" X420_TOKEN="$PKEY" "$X420_BIN" keys list
expect_contains "$ERR" "not a management token" "names the mix-up"
CREDENTIALS=$HOME/.config/x420/credentials
printf '# x420 credentials\n%s/ %s\n' "$SERVER" "$OPERATOR" >"$CREDENTIALS"
chmod 600 "$CREDENTIALS"
expect_exit 0 "token from the credentials file" env X420_SERVER="$SERVER" "$X420_BIN" keys list --json
expect_eq "$OUT" "$(x420 keys list --json)" "credentials file: the same list"
chmod 644 "$CREDENTIALS"
expect_exit 2 "credentials file readable by others" env X420_SERVER="$SERVER" "$X420_BIN" keys list
expect_contains "$ERR" "chmod 600" "says how to fix it"
rm "$CREDENTIALS"
expect_exit 0 "--server" env X420_TOKEN="$OPERATOR" "$X420_BIN" --server "$SERVER" keys list --json
expect_eq "$OUT" "$(x420 keys list --json)" "--server: the same list"
expect_exit 2 "--server with --db" env X420_TOKEN="$OPERATOR" "$X420_BIN" --server "$SERVER" --db "$DB" keys list
expect_exit 0 "--db wins over X420_SERVER" env X420_SERVER=http://127.0.0.1:1 "$X420_BIN" --db "$DB" keys list
expect_exit 2 "plain http to another machine" env X420_TOKEN="$OPERATOR" "$X420_BIN" --server http://192.0.2.1:8420 keys list
expect_contains "$ERR" "clear text" "says why"

# --- https, verified ----------------------------------------------------------------------------
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
  start_listener "$WORK/tls.out" "$WORK/tls.log" "$X420_BIN" serve --listen 127.0.0.1:0 \
    --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" || { finish; exit 1; }
  TLS_SERVER=https://127.0.0.1:$PORT
  expect_exit 0 "https with the CA in SSL_CERT_FILE" env SSL_CERT_FILE="$WORK/cert.pem" X420_SERVER="$TLS_SERVER" \
    X420_TOKEN="$OPERATOR" "$X420_BIN" keys list --json
  expect_eq "$OUT" "$(x420 keys list --json)" "https: the same list"
  expect_exit 5 "https with an unknown CA" env SSL_CERT_FILE=/dev/null X420_SERVER="$TLS_SERVER" X420_TOKEN="$OPERATOR" \
    "$X420_BIN" keys list
  expect_contains "$ERR" "certificate" "names the certificate problem"
  kill "$LAST_PID"
else
  fail "openssl is needed to make a test certificate"
fi

# --- a server that is not there -----------------------------------------------------------------
expect_exit 5 "nothing listening" env X420_SERVER=http://127.0.0.1:1 X420_TOKEN="$OPERATOR" "$X420_BIN" keys list
expect_contains "$ERR" "http://127.0.0.1:1" "names the server"
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
expect_exit 5 "server stopped" remote keys list
expect_contains "$ERR" "$SERVER" "names the server"
MODE=remote run verify "$PKEY"
expect_eq "$RC" "5" "verify: unreachable is not invalid"
expect_exit 5 "server stopped --json" remote keys list --json
expect_eq "$(jq -r .error.kind <<<"$ERR")" "unavailable" "JSON error kind"

# --- the server's log: the routes' patterns, never a token, key or secret -----------------------
expect_contains "$(cat "$WORK/serve.log")" "POST /x420/v1/tenants/{tenant}/keys 201" "admin calls are logged by route"
for s in "${SECRETS[@]}"; do
  expect_absent_from_files "$s" "a secret in the log" "$WORK/serve.log" "$WORK/serve.out"
  expect_absent_from_files "${s: -38}" "a secret's tail in the log" "$WORK/serve.log"
done
expect_absent_from_files "$UPSTREAM_SECRET" "the upstream secret in the store" "$DB" "$DB-wal"

finish
