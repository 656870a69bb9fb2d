#!/usr/bin/env bash
# x420 rules check as a rule author uses it: the built-in rules pass; a user's file whose example
# is not found, whose negative is found, or that does not load fails with exit 2 naming the file
# and the rule; --json is one document for scripts; --help teaches; examples are never printed.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "the built-in rules" x420 rules check
LAST=$(tail -1 <<<"$OUT")
[[ $LAST =~ ^[0-9]+\ rules,\ [0-9]+\ examples,\ [0-9]+\ negatives:\ ok ]] && pass ||
  fail "the summary line says ok: $LAST"
expect_not_contains "$OUT" "failure" "no failures"
RULES=$(grep -c '^\[\[rule\]\]' "$X420_SOURCE_DIR/lib/detect/rules/builtin.toml")
expect_contains "$LAST" "$RULES rules," "every built-in rule is checked"

# A rule that passes, as a user would write one.
cat >"$WORK/good.toml" <<'EOF'
[[rule]]
id = 'acme.token'
description = 'ACME API token'
regex = '\bacme_[A-Za-z0-9]{24}\b'
keywords = ['acme_']
examples = ['ACME_TOKEN=acme_Q7vLz2Rk9pXw4TbN8cYh3MdF']
negative_examples = ['acme_short', 'xacme_Q7vLz2Rk9pXw4TbN8cYh3MdF']
EOF
expect_exit 0 "a good user file" x420 rules check "$WORK/good.toml"
expect_eq "$OUT" "1 rule, 1 example, 2 negatives: ok" "its summary"
expect_exit 0 "a good file with -q prints nothing" x420 rules check -q "$WORK/good.toml"
expect_eq "$OUT" "" "-q is silent when all is well"

# An example the rule does not find: the regex wants 24 characters, the example has 20.
sed "s/Q7vLz2Rk9pXw4TbN8cYh3MdF']/Q7vLz2Rk9pXw4TbN8cYh']/" "$WORK/good.toml" >"$WORK/missed.toml"
expect_exit 2 "an example that is not found" x420 rules check "$WORK/missed.toml"
expect_contains "$OUT" "$WORK/missed.toml: rule acme.token: examples[0] is not found: the regex does not match it" \
  "names the file, the rule, the example's index and the reason"
expect_contains "$OUT" "1 rule, 1 example, 2 negatives: 1 failure" "the summary counts the failure"
expect_not_contains "$OUT" "Q7vLz2Rk9pXw4TbN8cYh" "the example itself is not printed"

# A negative example the rule finds.
sed "s/'acme_short'/'token acme_Zx8Wv7Ut6Sr5Qp4On3Ml2Kj1'/" "$WORK/good.toml" >"$WORK/negative.toml"
expect_exit 2 "a negative example that is found" x420 rules check "$WORK/negative.toml"
expect_contains "$OUT" "rule acme.token: negative_examples[0] is found" "names the negative"
expect_not_contains "$OUT" "Zx8Wv7Ut6Sr5Qp4On3Ml2Kj1" "the negative itself is not printed"

# Files that do not load: a misspelt field, a bad type, TOML that does not parse.
sed "s/^negative_examples/negative_example/" "$WORK/good.toml" >"$WORK/typo.toml"
expect_exit 2 "an unknown field" x420 rules check "$WORK/typo.toml"
expect_contains "$OUT" "$WORK/typo.toml:7: rule acme.token: unknown field 'negative_example' (did you mean 'negative_examples'?)" \
  "names file, line, rule and field, and suggests the right one"
sed "s/^regex = .*/regex = 42/" "$WORK/good.toml" >"$WORK/type.toml"
expect_exit 2 "a regex that is not a string" x420 rules check "$WORK/type.toml"
expect_contains "$OUT" "rule acme.token needs a regex" "says what the rule lacks"
printf '[[rule]]\nid = "acme.x"\nregex = "unterminated\n' >"$WORK/broken.toml"
expect_exit 2 "TOML that does not parse" x420 rules check "$WORK/broken.toml"
expect_contains "$OUT" "$WORK/broken.toml:3:" "names the file and the line"
expect_contains "$OUT" "0 rules, 0 examples, 0 negatives: 1 failure" "nothing was checked"
sed "s/^id = .*/id = 'github.pat'/" "$WORK/good.toml" >"$WORK/taken.toml"
expect_exit 2 "an id the built-in rules have" x420 rules check "$WORK/taken.toml"
expect_contains "$OUT" "rule id 'github.pat' is already defined" "as x420 scan --rules refuses it"
printf '[[rule]]\nid = "acme.x"\nregex = "acme_("\nkeywords = ["acme_"]\nexamples = ["acme_x"]\n' >"$WORK/regex.toml"
expect_exit 2 "a regex that does not compile" x420 rules check "$WORK/regex.toml"
expect_contains "$OUT" "rule acme.x: regex does not compile" "names the rule"
expect_exit 2 "a file that does not exist" x420 rules check "$WORK/nosuch.toml"
expect_contains "$ERR" "nosuch.toml" "names the missing file"

# A rule the engine cannot bound, or start, or check, is refused with the reason.
printf "[[rule]]\nid = 'acme.loose'\nregex = 'acme_[a-z]+'\nkeywords = ['acme_']\nexamples = ['acme_qzmv']\n" >"$WORK/loose.toml"
expect_exit 2 "a regex with no upper bound" x420 rules check "$WORK/loose.toml"
expect_contains "$OUT" "rule acme.loose: regex has no upper bound on its length" "unbounded"
printf "[[rule]]\nid = 'acme.bare'\nregex = 'acme_[a-z]{4}'\nexamples = ['acme_qzmv']\n" >"$WORK/nokw.toml"
expect_exit 2 "a rule without keywords" x420 rules check "$WORK/nokw.toml"
expect_contains "$OUT" "rule acme.bare: needs keywords" "no keywords"
printf "[[rule]]\nid = 'acme.bare'\nregex = 'acme_[a-z]{4}'\nkeywords = ['acme_']\n" >"$WORK/noex.toml"
expect_exit 2 "a rule without examples" x420 rules check "$WORK/noex.toml"
expect_contains "$OUT" "rule acme.bare needs at least one example" "no examples"

# Warnings are shown, and do not fail the check.
printf "[[rule]]\nid = 'acme.bare'\nregex = 'acme_[a-z]{4}'\nkeywords = ['acme_']\nexamples = ['acme_qzmv']\n" >"$WORK/warn.toml"
expect_exit 0 "a rule with warnings only" x420 rules check "$WORK/warn.toml"
expect_contains "$OUT" "warning: $WORK/warn.toml: rule acme.bare: no negative_examples" "no negatives"
expect_contains "$OUT" ": ok (1 warning" "the summary counts the warnings"

# Several files at once, as x420 scan --rules A --rules B loads them.
expect_exit 2 "a good and a bad file" x420 rules check "$WORK/good.toml" "$WORK/negative.toml"
expect_contains "$OUT" "$WORK/negative.toml: rule id 'acme.token' is already defined" \
  "the second file may not reuse the first one's id"

# --json: one document on stdout, its shape stable for scripts.
expect_exit 2 "--json with a failure" x420 rules check --json "$WORK/missed.toml" "$WORK/warn.toml"
python3 - "$OUT" "$WORK" <<'EOF' && pass || fail "--json shape: $OUT"
import json, sys
doc, work = json.loads(sys.argv[1]), sys.argv[2]
assert list(doc) == ["ok", "files", "rules", "examples", "negatives", "failures", "warnings", "problems"], list(doc)
assert doc["ok"] is False and doc["files"] == [work + "/missed.toml", work + "/warn.toml"], doc
assert (doc["rules"], doc["examples"], doc["negatives"], doc["failures"], doc["warnings"]) == (2, 2, 2, 1, 1), doc
failure = [p for p in doc["problems"] if p["level"] == "failure"]
assert len(failure) == 1, failure
assert failure[0] == {"level": "failure", "check": "example", "file": work + "/missed.toml",
                      "rule": "acme.token", "index": 0,
                      "message": work + "/missed.toml: rule acme.token: examples[0] is not found: "
                                        "the regex does not match it"}, failure
checks = sorted(p["check"] for p in doc["problems"] if p["level"] == "warning")
assert checks == ["no_examples"], checks
assert all(p["rule"] == "acme.bare" and p["index"] is None for p in doc["problems"] if p["level"] == "warning")
EOF
expect_exit 0 "--json for a good file" x420 rules check --json "$WORK/good.toml"
jq -e '.ok == true and .failures == 0 and .warnings == 0 and .rules == 1 and .problems == []' \
  <<<"$OUT" >/dev/null && pass || fail "a good file's --json: $OUT"
expect_exit 2 "--json for a file that does not load" x420 --json rules check "$WORK/broken.toml"
jq -e '.ok == false and .problems[0].check == "load" and .problems[0].rule == null' <<<"$OUT" >/dev/null &&
  pass || fail "a load problem in --json: $OUT"

# Help that teaches.
expect_exit 0 "rules check --help" x420 rules check --help
expect_contains "$OUT" "negative_examples" "explains what is checked"
expect_contains "$OUT" "Exit status: 0" "documents the exit codes"
expect_contains "$OUT" "Examples:" "teaches by example"
expect_exit 0 "help rules check" x420 help rules check
expect_contains "$OUT" "x420 rules check my-rules.toml" "x420 help shows the same"
expect_exit 2 "rules without a subcommand" x420 rules

finish
