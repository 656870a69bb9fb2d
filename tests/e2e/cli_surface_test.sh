#!/usr/bin/env bash
# What a user meets first: --version, --help that teaches, `x420 help COMMAND`, one JSON document
# with --json, -q, and completion scripts that load in their shells.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "--version" x420 --version
[[ $OUT =~ ^x420\ [0-9]+\.[0-9]+\.[0-9]+ ]] && pass || fail "--version prints 'x420 X.Y.Z': $OUT"
expect_exit 0 "version" x420 version
expect_contains "$OUT" "libraries: vectorscan" "version names the libraries"
expect_exit 0 "version --json" x420 version --json
jq -e '(.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+")) and (.commit | length > 0) and .builtin_rules > 100 and
       (.libraries | has("vectorscan") and has("sqlite") and has("libsodium") and has("openssl"))' <<<"$OUT" >/dev/null &&
  pass || fail "version --json has the version, commit, rules and libraries: $OUT"
expect_exit 0 "no arguments shows help" x420
expect_contains "$OUT" "Subcommands:" "lists the commands"
expect_contains "$OUT" "Exit codes" "documents exit codes"
expect_exit 0 "help keys create" x420 help keys create
expect_contains "$OUT" "--cap-usd" "help shows the options"
expect_contains "$OUT" "Examples:" "help teaches by example"
expect_contains "$OUT" "Usage: x420 keys create" "help titles the command with its path"
expect_contains "$OUT" "Global options" "a command's help lists the global options"
expect_exit 0 "help keys rotate" x420 help keys rotate
expect_contains "$OUT" "Usage: x420 keys rotate" "a nested command's help has its whole path"
expect_exit 0 "keys --help" x420 keys --help
expect_contains "$OUT" "rotate" "group help lists its commands"

expect_exit 0 "init --json" x420 init --json
expect_eq "$(json_field "$OUT" store_created)" "true" "init --json reports creation"
[[ $(json_field "$OUT" operator_token) == x420m_* ]] && pass || fail "init --json carries the token"
expect_exit 0 "create -q" x420 keys create --name quiet -q
expect_eq "$ERR" "" "-q prints no notes"
expect_eq "$(wc -l <<<"$OUT")" "1" "one line on stdout"
expect_exit 0 "tenants list --json" x420 tenants list --json
jq -e 'type == "array"' <<<"$OUT" >/dev/null && pass || fail "tenants list --json is one JSON array"
expect_exit 0 "keys list" x420 keys list
[[ $OUT != *$'\x1b'* ]] && pass || fail "no colour escapes when not a terminal"

# Completions: what the binary prints equals the shipped files, and each loads in its shell.
for shell in bash zsh fish; do
  expect_exit 0 "completions $shell" x420 completions "$shell"
done
expect_exit 2 "completions for an unknown shell" x420 completions tcsh
x420 completions bash >"$WORK/x420.bash"
cmp -s "$WORK/x420.bash" "$X420_SOURCE_DIR/completions/x420.bash" && pass || fail "completions/x420.bash is stale"
bash -n "$WORK/x420.bash" && pass || fail "bash completion parses"
COMPLETED=$(bash -c "source '$WORK/x420.bash'; COMP_WORDS=(x420 keys ''); COMP_CWORD=2; _x420; echo \"\${COMPREPLY[*]}\"")
expect_contains "$COMPLETED" "rotate" "bash completes keys subcommands"
COMPLETED=$(bash -c "source '$WORK/x420.bash'; COMP_WORDS=(x420 keys create --); COMP_CWORD=3; _x420; echo \"\${COMPREPLY[*]}\"")
expect_contains "$COMPLETED" "--expires" "bash completes keys create options"
if command -v zsh >/dev/null; then
  x420 completions zsh >"$WORK/_x420"
  zsh -n "$WORK/_x420" && pass || fail "zsh completion parses"
fi
if command -v fish >/dev/null; then
  x420 completions fish >"$WORK/x420.fish"
  fish -n "$WORK/x420.fish" && pass || fail "fish completion parses"
fi

# The man page renders without warnings.
if command -v groff >/dev/null; then
  WARN=$(groff -man -Tutf8 -ww -z "$X420_SOURCE_DIR/man/x420.1" 2>&1)
  expect_eq "$WARN" "" "man page renders cleanly"
fi

finish
