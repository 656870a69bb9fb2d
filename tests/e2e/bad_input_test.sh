#!/usr/bin/env bash
# Bad input of every kind gets a clear error naming what was wrong, the exit code of DESIGN.md,
# and changes nothing: malformed flags, unknown ids, missing or wrong master keys, files that are
# not x420 stores, newer schemas.
source "$(dirname "$0")/lib.sh"

expect_exit 2 "a command before init" x420 keys list
expect_contains "$ERR" "x420 init" "points at x420 init"
[[ ! -e $DB ]] && pass || fail "a failed command creates no store"

expect_exit 0 "init" x420 init

expect_exit 2 "malformed --expires" x420 keys create --name a --expires 10x
expect_contains "$ERR" "--expires" "names --expires"
expect_exit 2 "malformed --cap-usd" x420 keys create --name a --cap-usd 1e9
expect_contains "$ERR" "--cap-usd" "names --cap-usd"
expect_exit 2 "negative --rpm" x420 keys create --name a --rpm -5
expect_contains "$ERR" "--rpm" "names --rpm"
expect_exit 2 "missing --name" x420 keys create
expect_contains "$ERR" "--name" "names --name"
expect_exit 2 "malformed --grace" x420 keys rotate AAAAAAAAAAAA --grace soon
expect_contains "$ERR" "--grace" "names --grace"
expect_exit 0 "nothing was created by the refused commands" x420 keys list --json
expect_eq "$(jq length <<<"$OUT")" "0" "no keys"

expect_exit 4 "unknown key id" x420 keys show AAAAAAAAAAAA
expect_contains "$ERR" "no key with id AAAAAAAAAAAA" "names the id"
expect_exit 4 "revoke unknown key id" x420 keys revoke AAAAAAAAAAAA
expect_exit 2 "not an id" x420 keys show not-an-id
expect_exit 2 "a whole key instead of an id" x420 keys show x420_AAAAAAAAAAAA_x
expect_contains "$ERR" "not the key itself" "explains id vs key"
expect_exit 4 "unknown tenant" x420 --tenant nosuch keys list
expect_contains "$ERR" "no tenant named nosuch" "names the tenant"
expect_exit 2 "empty stdin for verify" bash -c "'$X420_BIN' keys verify </dev/null"
expect_exit 3 "junk on stdin for verify" bash -c "echo hello | '$X420_BIN' keys verify"
expect_exit 2 "unknown command" x420 frobnicate
expect_contains "$ERR" "error: unknown command 'frobnicate' for 'x420'" "names the unknown command"
expect_exit 2 "a mistyped command" x420 kyes list
expect_contains "$ERR" "(did you mean 'keys'?)" "suggests the nearest command"
expect_exit 2 "unknown option" x420 keys list --frob
expect_contains "$ERR" "unknown flag '--frob' for 'x420 keys list'" "names the flag and its command"
expect_exit 2 "a mistyped option" x420 keys create --name ci --rmp 10
expect_contains "$ERR" "(did you mean '--rpm'?)" "suggests the nearest flag"
expect_exit 2 "a bad number" x420 keys create --name ci --rpm 0
expect_eq "$ERR" "error: --rpm must be a whole number ≥ 1; \`x420 help keys create\` shows its usage" "names the accepted form"
expect_exit 2 "a parse error under --json" x420 keys create --name ci --rpm 0 --json
jq -e '.error.kind == "usage" and (.error.message | startswith("--rpm must be"))' <<<"$ERR" >/dev/null && pass ||
  fail "a parse error is JSON under --json: $ERR"
expect_exit 2 "a secret typed as a command" x420 keys sk_live_4eC39HqLyjWDarjtT1zdp7dc
expect_not_contains "$ERR" "4eC39HqLyjWDarjtT1zdp7dc" "a word that may be a secret is not repeated"
expect_exit 2 "help for an unknown command" x420 help keys frob
expect_contains "$ERR" "no command 'frob' in 'x420 keys'" "help names the unknown command"
expect_exit 2 "--json error" x420 keys show AAAAAAAA --json
expect_eq "$(jq -r .error.kind <<<"$ERR")" "usage" "a --json error is JSON on stderr"

# The master key: too open, missing, wrong, malformed.
chmod 644 "$MASTER_KEY"
expect_exit 2 "master key readable by others" x420 keys list
expect_contains "$ERR" "chmod 600" "says how to fix the mode"
chmod 600 "$MASTER_KEY"

cp "$MASTER_KEY" "$WORK/master.key.bak"
rm "$MASTER_KEY"
expect_exit 3 "master key missing" x420 keys list
expect_exit 3 "init with the master key missing" x420 init
expect_contains "$ERR" "will not make a new one" "init refuses to orphan the store"
[[ ! -e $MASTER_KEY ]] && pass || fail "no new master key was written"
cp "$WORK/master.key.bak" "$MASTER_KEY"
chmod 600 "$MASTER_KEY"
expect_exit 0 "store works again with its key" x420 keys list

OTHER_KEY="x420mk1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect_exit 3 "wrong X420_MASTER_KEY" env X420_MASTER_KEY="$OTHER_KEY" "$X420_BIN" keys list
expect_contains "$ERR" "does not open this store" "says the key does not fit"
expect_exit 2 "malformed X420_MASTER_KEY" env X420_MASTER_KEY=garbage "$X420_BIN" keys list
expect_contains "$ERR" "X420_MASTER_KEY" "names the variable"

# Files that are not x420 stores, and a newer schema.
echo "just some text that is clearly not an sqlite database file at all" >"$WORK/notes.txt"
expect_exit 2 "a text file as --db" x420 --db "$WORK/notes.txt" keys list
expect_contains "$ERR" "not an x420 store" "says so"
expect_exit 2 "a text file as --db for init" x420 --db "$WORK/notes.txt" init
expect_contains "$(cat "$WORK/notes.txt")" "clearly not" "init left the file alone"
sqlite3 "$WORK/other.db" "CREATE TABLE songs(title TEXT);"
expect_exit 2 "another program's database" x420 --db "$WORK/other.db" init
expect_contains "$ERR" "another program" "says whose"
expect_exit 2 "a directory as --db" x420 --db "$WORK" keys list

cp "$DB" "$WORK/newer.db"
sqlite3 "$WORK/newer.db" "PRAGMA user_version = 42;"
expect_exit 2 "a newer schema" x420 --db "$WORK/newer.db" keys list
expect_contains "$ERR" "newer than this x420" "names the schema problem"

# Destructive commands ask first.
expect_exit 2 "tenant delete without --yes off a terminal" x420 tenants delete default
expect_contains "$ERR" "--yes" "points at --yes"
expect_exit 0 "default tenant still there" x420 tenants list --json
expect_eq "$(jq -r '.[0].name' <<<"$OUT")" "default" "nothing was deleted"

finish
