#!/usr/bin/env bash
# x420 scan as a developer and a CI job use it: trees with ignore files, stdin, staged changes,
# the three formats, the exit codes, and bad input that must not crash or hang.
source "$(dirname "$0")/lib.sh"

rand() { head -c 400 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
AWS_ID="AKIA$(head -c 200 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c 16)"
GH="ghp_$(rand 36)"
SK="sk-ant-api03-$(rand 93)AA"

T=$WORK/tree
mkdir -p "$T/src" "$T/.git" "$T/vendor" "$T/build"
printf 'import os\naws_access_key_id = "%s"\n' "$AWS_ID" >"$T/src/config.py"
printf 'const token = "%s";\n' "$GH" >"$T/src/app.js"
printf 'nothing to see here\n' >"$T/src/clean.txt"
printf 'key = "%s"  # x420:allow\n' "$AWS_ID" >"$T/src/accepted.py"
printf '%s\n' "$AWS_ID" >"$T/.git/config"
printf '%s\n' "$GH" >"$T/vendor/lib.js"
printf '%s\n' "$GH" >"$T/build/out.js"
printf 'vendor/\n' >"$T/.gitignore"
printf 'build/\n' >"$T/.x420ignore"
printf 'bin\0ary %s\n' "$AWS_ID" >"$T/src/blob.bin"

cd "$T"
expect_exit 1 "scan a tree with secrets" x420 scan --no-progress
expect_contains "$OUT" "src/config.py:2:" "finds the AWS key with its line"
expect_contains "$OUT" "src/app.js:1:" "finds the GitHub token"
expect_contains "$OUT" "2 secrets" "summary counts them"
expect_not_contains "$OUT" "vendor/lib.js" ".gitignore honoured"
expect_not_contains "$OUT" "build/out.js" ".x420ignore honoured"
expect_not_contains "$OUT" ".git/config" ".git skipped"
expect_not_contains "$OUT" "accepted.py" "x420:allow honoured"
expect_not_contains "$OUT" "blob.bin" "binary files skipped"
expect_not_contains "$OUT" "$AWS_ID" "the secret is not printed"
expect_not_contains "$OUT" "$GH" "the token is not printed"

expect_exit 1 "--no-ignore" x420 scan --no-progress --no-ignore
expect_contains "$OUT" "vendor/lib.js" "--no-ignore scans ignored paths"

expect_exit 1 "json" x420 scan --format json
expect_eq "$(jq '.findings | length' <<<"$OUT")" "2" "json has both findings"
expect_eq "$(jq -r '[.findings[].rule] | sort | join(",")' <<<"$OUT")" "aws.access_key_id,github.pat" "json rule ids"
expect_eq "$(jq -r '.findings[0] | has("secret")' <<<"$OUT")" "false" "no secret without --show-secrets"
expect_exit 1 "--json global flag" x420 scan --json
jq -e '.summary.files_scanned >= 3' <<<"$OUT" >/dev/null && pass || fail "--json gives the json report"
expect_exit 1 "--show-secrets" x420 scan --format json --show-secrets src/config.py
expect_eq "$(jq -r '.findings[0].secret' <<<"$OUT")" "$AWS_ID" "--show-secrets shows the secret"

expect_exit 1 "sarif" x420 scan --format sarif --show-secrets
expect_eq "$(jq -r '.version' <<<"$OUT")" "2.1.0" "sarif version"
expect_eq "$(jq '.runs[0].results | length' <<<"$OUT")" "2" "sarif results"
expect_eq "$(jq -r '.runs[0].results[] | select(.ruleId=="aws.access_key_id") | .locations[0].physicalLocation.region.startLine' <<<"$OUT")" "2" "sarif line"
expect_not_contains "$OUT" "$AWS_ID" "sarif never carries the secret"

# stdin, including a secret that straddles the 1 MiB read size.
expect_exit 0 "clean stdin" bash -c "echo 'hello world' | '$X420_BIN' scan -"
expect_exit 1 "secret on stdin" bash -c "printf 'x\n%s\n' '$SK' | '$X420_BIN' scan --format json -"
expect_eq "$(jq -r '.findings[0].line' <<<"$OUT")" "2" "stdin finding line"
{ head -c $((1048576 - 10)) /dev/zero | tr '\0' 'a'; printf ' %s \n' "$GH"; } >"$WORK/straddle.txt"
expect_exit 1 "secret across a read boundary" bash -c "cat '$WORK/straddle.txt' | '$X420_BIN' scan --format json -"
expect_eq "$(jq -r '.findings[0].rule' <<<"$OUT")" "github.pat" "found across the boundary"

# --staged: what git would commit, not the working tree.
if command -v git >/dev/null; then
  R=$WORK/repo
  git init -q "$R" && cd "$R"
  git config user.email t@example.invalid && git config user.name t
  printf 'safe\n' >a.txt && git add a.txt
  expect_exit 0 "nothing staged with a secret" x420 scan --staged
  printf 'token=%s\n' "$GH" >a.txt
  expect_exit 0 "unstaged secret is not scanned by --staged" x420 scan --staged
  git add a.txt
  expect_exit 1 "staged secret" x420 scan --staged
  expect_contains "$OUT" "a.txt:1:" "names the staged file"
  cd "$T"
fi

# Known secrets and user rules.
export MY_DB_PASSWORD="correct-horse-battery-staple"
printf 'db = "%s"\n' "$MY_DB_PASSWORD" >"$WORK/known.txt"
expect_exit 0 "plain text without known secrets" x420 scan "$WORK/known.txt"
expect_exit 1 "--known-env" x420 scan --known-env MY_DB_PASSWORD "$WORK/known.txt"
expect_contains "$OUT" "known_secret" "reported as a known secret"
printf 'export DB_PASSWORD="%s"\n' "$MY_DB_PASSWORD" >"$WORK/.env.test"
expect_exit 1 "--known-file" x420 scan --known-file "$WORK/.env.test" "$WORK/known.txt"
expect_exit 2 "--known-env unset" x420 scan --known-env NOT_SET_ANYWHERE "$WORK/known.txt"
expect_contains "$ERR" "NOT_SET_ANYWHERE" "names the variable"

cat >"$WORK/rules.toml" <<'TOML'
[[rule]]
id = "acme.token"
description = "ACME internal token"
severity = "high"
keywords = ["acme_"]
regex = 'acme_[a-z0-9]{20}'
examples = ["acme_q8v2m0x7r4k9p1z6w3n5"]
negative_examples = ["acme_short"]
TOML
printf 'use acme_q8v2m0x7r4k9p1z6w3n5 here\n' >"$WORK/acme.txt"
expect_exit 1 "--rules adds a rule" x420 scan --rules "$WORK/rules.toml" "$WORK/acme.txt"
expect_contains "$OUT" "acme.token" "user rule reported"
printf '[[rule]]\nid = "bad"\nregex = "(unclosed"\nkeywords = ["unc"]\nexamples = ["unclosed"]\n' >"$WORK/bad-regex.toml"
expect_exit 2 "--rules with a bad regex" x420 scan --rules "$WORK/bad-regex.toml" "$WORK/acme.txt"
expect_contains "$ERR" "rule bad" "names the rule"
printf '[[rule]]\nid = "x"\nregex = "abc"\n\nthis is = = broken\n' >"$WORK/bad-syntax.toml"
expect_exit 2 "--rules with a syntax error" x420 scan --rules "$WORK/bad-syntax.toml" "$WORK/acme.txt"
expect_contains "$ERR" "bad-syntax.toml:5" "names the line"

# Classes: each finding names its class; only the --fail-on classes (secret by default) fail.
printf 'bucket at arn:aws:s3:::acme-invoices-2024\nSSN: 536-22-8746\nDOB: 1985-03-12\n' >"$WORK/classes.txt"
expect_exit 0 "identifiers and personal data alone do not fail by default" x420 scan --format json "$WORK/classes.txt"
jq -e '[.findings[].class] | sort | unique == ["identifier", "personal"]' <<<"$OUT" >/dev/null && pass ||
  fail "classes in the JSON report: $(jq -c '[.findings[] | [.rule, .class]]' <<<"$OUT")"
expect_exit 1 "--fail-on personal fails on the SSN" x420 scan --fail-on personal "$WORK/classes.txt"
expect_contains "$OUT" "personal.us_ssn" "text report names the rule"
expect_contains "$OUT" "  personal" "text report names a class that is not secret"
expect_exit 1 "--fail-on identifier fails on the ARN" x420 scan --fail-on identifier --format sarif "$WORK/classes.txt"
jq -e '[.runs[0].results[].properties.class] | index("identifier") != null' <<<"$OUT" >/dev/null && pass ||
  fail "SARIF results carry the class"
printf '%s\nSSN: 536-22-8746\n' "$AWS_ID" >"$WORK/mixed.txt"
expect_exit 1 "a secret still fails" x420 scan "$WORK/mixed.txt"
expect_exit 0 "--fail-on identifier: a secret is reported but does not fail" x420 scan --fail-on identifier --format json "$WORK/mixed.txt"
jq -e '[.findings[] | select(.class == "secret")] | length == 1' <<<"$OUT" >/dev/null && pass ||
  fail "the secret is still in the report"
expect_exit 2 "an unknown class is refused" x420 scan --fail-on private "$WORK/classes.txt"
expect_contains "$ERR" "--fail-on must be one of secret, identifier, personal" "names the flag and the classes"

# Bad input: none of it may crash, hang or grow without bound.
: >"$WORK/empty.txt"
expect_exit 0 "empty file" x420 scan "$WORK/empty.txt"
printf '\xff\xfe invalid utf-8 \xc3\x28 %s\n' "$AWS_ID" >"$WORK/bad-utf8.txt"
expect_exit 1 "invalid UTF-8 around a secret" x420 scan --format json "$WORK/bad-utf8.txt"
jq -e '.findings | length == 1' <<<"$OUT" >/dev/null && pass || fail "invalid UTF-8 still yields valid JSON"
expect_exit 2 "missing path" x420 scan "$WORK/does-not-exist"
expect_contains "$ERR$OUT" "does-not-exist" "names the missing path"
mkfifo "$WORK/fifo"
expect_exit 2 "a FIFO given by name is reported, not opened" timeout 10 "$X420_BIN" scan "$WORK/fifo"
mkdir -p "$WORK/loop" && ln -s .. "$WORK/loop/up"
expect_exit 0 "a symlink loop" timeout 20 "$X420_BIN" scan "$WORK/loop"
head -c 12000000 /dev/zero | tr '\0' 'x' >"$WORK/big.txt"
expect_exit 0 "a file over the size limit is skipped" x420 scan "$WORK/big.txt"
expect_contains "$OUT" "--max-size" "says why it was skipped"
expect_exit 0 "one 12 MB line scanned with a bigger limit" x420 scan --max-size 20M "$WORK/big.txt"
expect_exit 2 "bad --max-size" x420 scan --max-size lots "$WORK/big.txt"
expect_exit 2 "bad --format" x420 scan --format xml

finish
