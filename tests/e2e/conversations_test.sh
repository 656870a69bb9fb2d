#!/usr/bin/env bash
# The data lifecycle through the real x420 serve (issue 5): conversations stored only when
# turned on and only redacted, sealed per record; named by header or derived; read back with
# history; never for a no-log key; an ephemeral TTL swept with the bytes gone from the database
# and its WAL; export (local and --server, streamed, checkable); a tampered record or a wrong
# master key is a loud error; account delete leaves no row and no byte of the tenant.
source "$(dirname "$0")/lib.sh"

rand() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
AWS="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
UPSTREAM_SECRET="sk-up-$(rand 24)"
PROMPT="stored-prompt-$(rand 12)"
NOLOG_PROMPT="nolog-prompt-$(rand 12)"
EPHEMERAL_PROMPT="ephemeral-prompt-$(rand 12)"
ACME_PROMPT="acme-prompt-$(rand 12)"
start_mock_upstream || { finish; exit 1; }

expect_exit 0 "init" x420 init -q
OPERATOR=$OUT
expect_exit 0 "upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add mock --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
expect_exit 0 "key" x420 keys create --name main -q
KEY=$OUT
expect_exit 0 "no-log key" x420 keys create --name quiet --no-log -q
KEY_NOLOG=$OUT
expect_exit 0 "a key that forwards as is" x420 keys create --name raw --redact off -q
KEY_OFF=$OUT
expect_exit 0 "tenant acme" x420 tenants create acme -q
ACME_TOKEN=$OUT
expect_exit 0 "acme upstream" env KEY="$UPSTREAM_SECRET" "$X420_BIN" upstreams add mock --tenant acme --kind openai \
  --base-url "http://127.0.0.1:$MOCK/v1" --api-key-env KEY --models 'gpt-*'
expect_exit 0 "acme key" x420 keys create --name a --tenant acme -q
KEY_ACME=$OUT
ACME_ID=$(x420 tenants list --json | jq -r '.[] | select(.name=="acme") | .id')

export X420_CONVERSATION_SWEEP_SECONDS=1
start_serve --store-conversations || { finish; exit 1; }

chat() {  # KEY TEXT [CURL ARGS...]
  local key=$1 text=$2
  shift 2
  curl -s --max-time 20 -H "content-type: application/json" -H "Authorization: Bearer $key" "$@" \
    "$URL/v1/chat/completions" \
    -d "$(printf '{"model":"gpt-4o","messages":[{"role":"user","content":"%s with %s"}]}' "$text" "$AWS")"
}
conversation_count() { x420 history list --tenant "${1:-default}" --json | jq length; }
# wait_for COMMAND...: up to 10 s for COMMAND to succeed (the proxy writes after the reply).
wait_for() {
  local i
  for ((i = 0; i < 100; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
records_of() { x420 history show "$1" --tenant "${2:-default}" --json 2>/dev/null | jq -r '.records | length'; }
has_records() { [[ $(records_of "$1" "${3:-default}") == "$2" ]]; }
# sealed_hex CONVERSATION: the hex of the stored ciphertexts of a conversation.
sealed_hex() { sqlite3 "$DB" "SELECT hex(sealed) FROM conversation_records WHERE conversation_id = '$1'"; }
# bytes_absent HEX DESCRIPTION: no 32-byte window of the ciphertext is in the database or its WAL.
bytes_absent() {
  python3 - "$1" "$DB" "$DB-wal" <<'PY' && pass || fail "$2"
import sys
blob = bytes.fromhex(sys.argv[1])
needles = [blob[i:i + 32] for i in range(0, max(1, len(blob) - 32), 32)]
for path in sys.argv[2:]:
    try:
        data = open(path, 'rb').read()
    except FileNotFoundError:
        continue
    if any(n in data for n in needles):
        sys.exit(1)
PY
}

# A conversation named by the client, over two turns.
OUT=$(chat "$KEY" "$PROMPT" -H "x420-conversation-id: project-42")
expect_contains "$OUT" "$AWS" "the reply is restored for the client"
chat "$KEY" "$PROMPT second turn" -H "x420-conversation-id: project-42" >/dev/null
wait_for has_records project-42 4 && pass || fail "two turns stored as four records (got $(records_of project-42))"
expect_exit 0 "history show" x420 history show project-42
expect_contains "$OUT" "$PROMPT" "history shows the prompt as forwarded"
expect_contains "$OUT" "X420_REDACTED_aws_access_key_id_" "history holds the placeholder"
expect_not_contains "$OUT" "$AWS" "history holds no secret"
expect_exit 0 "history show --json" x420 history show project-42 --json
expect_eq "$(jq -r '[.records[].kind] | join(",")' <<<"$OUT")" "request,response,request,response" "records in order"
expect_eq "$(jq -r '.expires_at != null' <<<"$OUT")" "true" "the default TTL applies"
expect_exit 0 "history list" x420 history list
expect_contains "$OUT" "project-42" "history list names the conversation"
LOCAL_SHOW=$(x420 history show project-42 --json)
X420_TOKEN=$OPERATOR expect_exit 0 "history show through the service" x420 history show project-42 --json --server "$URL"
expect_eq "$OUT" "$LOCAL_SHOW" "the service decrypts the same records"
X420_TOKEN=$OPERATOR expect_exit 0 "history list through the service" x420 history list --server "$URL"
expect_contains "$OUT" "project-42" "listed through the service"
expect_exit 4 "an unknown conversation" x420 history show no-such-conversation
expect_exit 4 "another tenant's conversation is not visible" x420 history show project-42 --tenant acme

# A key with redaction off forwards the secret, and the mock echoes it back: what is stored of
# both is masked all the same.
OUT=$(chat "$KEY_OFF" "$PROMPT raw" -H "x420-conversation-id: raw-1")
expect_contains "$OUT" "$AWS" "the off key's client gets its reply as is"
wait_for has_records raw-1 2 && pass || fail "the off key's exchange is stored"
expect_exit 0 "history of the off key" x420 history show raw-1
expect_not_contains "$OUT" "$AWS" "no secret stored from a key with redaction off, request or reply"
expect_contains "$OUT" "[REDACTED:aws.access_key_id]" "stored masked"

# A streamed reply is stored as the text its deltas join to, placeholders and all.
curl -s -N --max-time 20 -H "Authorization: Bearer $KEY" -H "x420-conversation-id: streamed-1" "$URL/v1/chat/completions" \
  -d "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"$PROMPT streamed with $AWS\"}]}" >"$WORK/streamed.sse"
expect_contains "$(cat "$WORK/streamed.sse")" "data:" "the client got a stream"
wait_for has_records streamed-1 2 && pass || fail "a streamed exchange is stored"
STORED_REPLY=$(x420 history show streamed-1 --json | jq -r '.records[1].text')
expect_eq "$(jq -r .streamed <<<"$STORED_REPLY")" "true" "the stored reply is marked streamed"
expect_contains "$(jq -r .text <<<"$STORED_REPLY")" "X420_REDACTED_aws_access_key_id_" "the joined text keeps the placeholder"
expect_not_contains "$STORED_REPLY" "$AWS" "the stored stream holds no secret"

# Without a header, turns of one chat share an id derived from its first message.
curl -s --max-time 20 -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"derived one"}]}' >/dev/null
curl -s --max-time 20 -H "Authorization: Bearer $KEY" "$URL/v1/chat/completions" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"derived one"},{"role":"assistant","content":"ok"},{"role":"user","content":"and two"}]}' >/dev/null
derived_has_4() { x420 history list --json | jq -e '[.[] | select(.id | startswith("conv-")) | .records] == [4]' >/dev/null; }
wait_for derived_has_4 && pass || fail "two turns without a header land in one derived conversation"
OUT=$(curl -s --max-time 20 -H "Authorization: Bearer $KEY" -H "x420-conversation-id: has space" "$URL/v1/chat/completions" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}')
expect_contains "$(jq -r .error.message <<<"$OUT")" "x420-conversation-id" "a bad conversation id is refused by name"

# A no-log key: no conversation, no access-log line, a usage row with counts only.
BEFORE=$(conversation_count)
chat "$KEY_NOLOG" "$NOLOG_PROMPT" -H "x420-conversation-id: nolog-conv" >/dev/null
sleep 1.5
expect_eq "$(conversation_count)" "$BEFORE" "a no-log key stores no conversation"
expect_exit 4 "nothing under the no-log key's conversation id" x420 history show nolog-conv
NOLOG_ID=$(x420 keys list --json | jq -r '.[] | select(.name=="quiet") | .id')
expect_not_contains "$(cat "$WORK/serve.log")" "$NOLOG_ID" "no access-log line names the no-log key"
expect_eq "$(x420 usage --key "$NOLOG_ID" --json | jq -r '.[0].model')" "null" "no-log usage row: no model"
[[ $(x420 usage --key "$NOLOG_ID" --json | jq -r '.[0].input_tokens') -gt 0 ]] && pass || fail "no-log usage row keeps token counts"

# An ephemeral conversation: a TTL by header, swept, its ciphertext gone from the bytes.
chat "$KEY" "$EPHEMERAL_PROMPT" -H "x420-conversation-id: brief" -H "x420-conversation-ttl: 2" >/dev/null
wait_for has_records brief 2 && pass || fail "the ephemeral conversation is stored first"
SEALED=$(sealed_hex brief | tr -d '\n')
[[ ${#SEALED} -gt 64 ]] && pass || fail "its sealed records are in the table"
gone() { ! x420 history show brief >/dev/null 2>&1; }
wait_for gone && pass || fail "the sweep deleted the expired conversation"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM conversation_records WHERE conversation_id = 'brief'")" "0" "its records are gone"
bytes_absent "$SEALED" "the swept ciphertext is absent from the database and its WAL"
expect_exit 0 "a conversation without expiry" x420 history show project-42

# Export: local, then through the service; checkable; no secret in it.
expect_exit 0 "export" x420 export -o "$WORK/export.json"
expect_exit 0 "export check" x420 export check "$WORK/export.json" --json
expect_eq "$(jq -r .records <<<"$OUT")" "$(jq '[.conversations[].records | length] | add' "$WORK/export.json")" "complete counts match"
expect_eq "$(jq -r .format "$WORK/export.json")" "x420-export/1" "format"
expect_eq "$(stat -c %a "$WORK/export.json")" "600" "the export file is private"
expect_contains "$(cat "$WORK/export.json")" "$PROMPT" "conversations are decrypted in the export"
expect_eq "$(jq -r '.keys[0].hash_algorithm' "$WORK/export.json")" "blake2b-256-keyed" "keys name their hash algorithm"
expect_absent_from_files "$AWS" "no canary secret in the export" "$WORK/export.json"
expect_absent_from_files "$UPSTREAM_SECRET" "no upstream secret in the export" "$WORK/export.json"
expect_absent_from_files "${KEY:5}" "no key secret in the export" "$WORK/export.json"
expect_absent_from_files "$NOLOG_PROMPT" "no no-log prompt in the export" "$WORK/export.json"
X420_TOKEN=$OPERATOR expect_exit 0 "export through the service" x420 export --server "$URL" -o "$WORK/remote.json"
strip() { jq -S 'del(.exported_at)' "$1"; }
expect_eq "$(strip "$WORK/remote.json" | sha256sum)" "$(strip "$WORK/export.json" | sha256sum)" "the service streams the same bundle"
[[ $(curl -s -D - -o /dev/null -H "Authorization: Bearer $OPERATOR" "$URL/x420/v1/tenants/default/export" | tr -d '\r' | grep -ci '^transfer-encoding: chunked') == 1 ]] \
  && pass || fail "the service sends the export chunked"
X420_TOKEN=$ACME_TOKEN expect_exit 4 "acme's admin cannot export default (nor learn it exists)" x420 export --server "$URL" --tenant default -o "$WORK/x.json"
[[ ! -e $WORK/x.json ]] && pass || fail "a refused export leaves no file"
head -c 2000 "$WORK/export.json" >"$WORK/cut.json"
expect_exit 2 "a truncated export is refused" x420 export check "$WORK/cut.json"
expect_contains "$ERR" "truncated" "the error says truncated"
sed 's/"format":"x420-export\/1"/"format":"other\/9"/' "$WORK/export.json" >"$WORK/other.json"
expect_exit 2 "another format is refused" x420 export check "$WORK/other.json"
expect_not_contains "$ERR" "$PROMPT" "the error quotes no content"

# A tampered record: a loud, specific error, never garbage; the export stops and writes nothing.
python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT id, sealed FROM conversation_records WHERE conversation_id='project-42' AND seq=1").fetchone()
b = bytearray(row[1]); b[-5] ^= 0x01
db.execute("UPDATE conversation_records SET sealed=? WHERE id=?", (bytes(b), row[0])); db.commit()
PY
expect_exit 70 "a tampered record" x420 history show project-42
expect_contains "$ERR" "failed authentication" "the error names the failed record"
expect_exit 70 "export with a tampered record" x420 export -o "$WORK/tampered.json"
[[ ! -e $WORK/tampered.json ]] && pass || fail "a failed export leaves no file"

# A wrong master key: refused, saying so.
cp "$MASTER_KEY" "$WORK/master.key.right"
printf 'x420mk1:%s\n' "$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=')" >"$MASTER_KEY"
expect_exit 3 "a wrong master key" x420 history list
expect_contains "$ERR" "master key" "the error names the master key"
cp "$WORK/master.key.right" "$MASTER_KEY"

# Account delete: acme stores a conversation, then goes without a trace.
chat "$KEY_ACME" "$ACME_PROMPT" -H "x420-conversation-id: acme-conv" >/dev/null
wait_for has_records acme-conv 2 acme && pass || fail "acme's conversation stored"
ACME_SEALED=$(sealed_hex acme-conv | tr -d '\n')
expect_exit 2 "account delete without --yes and without a terminal" x420 account delete --tenant acme </dev/null
expect_exit 4 "deleting an account that does not exist" x420 account delete --tenant nobody --yes
# On a terminal it asks for the name: a wrong one deletes nothing, the right one deletes.
expect_exit 0 "tenant gamma" x420 tenants create gamma -q
tty_delete() { script -qec "$X420_BIN account delete --tenant gamma" /dev/null <<<"$1"; }
run tty_delete gamme
[[ $RC -ne 0 ]] && pass || fail "a mistyped name on a terminal deletes nothing"
expect_contains "$(x420 tenants list --json | jq -r '.[].name')" "gamma" "gamma is still there"
run tty_delete gamma
expect_eq "$RC" "0" "typing the name on a terminal deletes the account"
expect_not_contains "$(x420 tenants list --json | jq -r '.[].name')" "gamma" "gamma is gone"
X420_TOKEN=$ACME_TOKEN expect_exit 0 "acme deletes its own account through the service" \
  x420 account delete --tenant acme --yes --server "$URL"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY_ACME" "$URL/v1/chat/completions" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}')" "401" "acme's key is refused at once"
python3 - "$DB" "$ACME_ID" <<'PY' && pass || fail "a row still names tenant acme"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); needle = sys.argv[2]
for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
    for row in db.execute(f'SELECT * FROM "{table}"'):
        for v in row:
            if (isinstance(v, str) and (needle in v or v == 'acme')) or (isinstance(v, bytes) and needle.encode() in v):
                print(table, file=sys.stderr); sys.exit(1)
PY
bytes_absent "$ACME_SEALED" "acme's ciphertext is absent from the database and its WAL"
expect_exit 0 "the default tenant is untouched" x420 history list --json
expect_contains "$OUT" "project-42" "default's conversations remain"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
for canary in "$AWS" "$UPSTREAM_SECRET" "$PROMPT" "$NOLOG_PROMPT" "$EPHEMERAL_PROMPT" "$ACME_PROMPT"; do
  expect_absent_from_files "$canary" "no canary or prompt in plain text at rest" "$DB" "$DB-wal" "$WORK/serve.log"
done
finish
