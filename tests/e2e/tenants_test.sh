#!/usr/bin/env bash
# Tenants: create with a one-time admin token, keys per tenant, isolation of ids, and delete
# taking every key of the tenant with it.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "init" x420 init
expect_exit 0 "create tenant" x420 tenants create acme
[[ $OUT =~ ^x420m_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$ ]] && pass || fail "tenant create prints the admin token"
expect_exit 2 "duplicate tenant" x420 tenants create acme
expect_contains "$ERR" "already exists" "names the conflict"
expect_exit 2 "bad tenant name" x420 tenants create "Not Valid"
expect_exit 0 "create tenant --json" x420 tenants create globex --json
expect_eq "$(json_field "$OUT" name)" "globex" "json name"
[[ $(json_field "$OUT" admin_token) == x420m_* ]] && pass || fail "json admin_token"

expect_exit 0 "key in acme" x420 --tenant acme keys create --name a1
ACME_KEY=$OUT
expect_exit 0 "key in globex" x420 keys create --name g1 --tenant globex
GLOBEX_KEY=$OUT

expect_exit 0 "list acme" x420 --tenant acme keys list --json
expect_eq "$(jq -r '.[].name' <<<"$OUT")" "a1" "acme sees only its key"
expect_exit 4 "globex key id under acme" x420 --tenant acme keys show "${GLOBEX_KEY:5:12}"
expect_exit 4 "revoke globex key via acme" x420 --tenant acme keys revoke "${GLOBEX_KEY:5:12}"
expect_exit 0 "globex key untouched" bash -c "echo '$GLOBEX_KEY' | '$X420_BIN' keys verify"

expect_exit 0 "tenants list" x420 tenants list --json
expect_eq "$(jq -r 'map(.name) | join(",")' <<<"$OUT")" "acme,default,globex" "all tenants listed"
expect_eq "$(jq -r 'map(select(.name == "acme"))[0].keys' <<<"$OUT")" "1" "key count"

expect_exit 0 "delete acme" x420 tenants delete acme --yes
expect_contains "$ERR" "1 key" "delete reports what went"
expect_exit 3 "deleted tenant's key" bash -c "echo '$ACME_KEY' | '$X420_BIN' keys verify"
expect_exit 4 "delete again" x420 tenants delete acme --yes
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM api_keys WHERE tenant_id NOT IN (SELECT id FROM tenants)")" "0" "no orphaned keys"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM tenants WHERE name = 'acme'")" "0" "no tombstone"

finish
