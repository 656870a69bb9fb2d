// The reports of `x420 scan`: what a terminal, a script and a code-scanning upload each receive,
// and that the secret reaches none of them unless asked, and SARIF never.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "cli/scan_report.h"

using namespace x420;
using namespace x420::cli;
using nlohmann::ordered_json;

namespace {

const std::string kSecret = "AKIAZ7QX3MPLE4SECRET";

ReportedFinding aws_finding() {
  ReportedFinding f;
  f.path = "src/app.py";
  f.line = 12;
  f.column = 9;
  f.end_line = 12;
  f.end_column = 29;
  f.rule_id = "aws.access_key_id";
  f.rule_description = "AWS access key ID";
  f.severity = detect::Severity::critical;
  f.confidence = detect::Confidence::high;
  f.fingerprint = "3f9a1c2e5b7d9f01";
  f.preview = "aws_key = \"[REDACTED:aws.access_key_id]\"";
  return f;
}

ReportedFinding github_finding() {
  ReportedFinding f;
  f.path = "config/dev settings.yml";
  f.line = 3;
  f.column = 10;
  f.end_line = 3;
  f.end_column = 50;
  f.rule_id = "github.pat";
  f.rule_description = "GitHub personal access token";
  f.severity = detect::Severity::medium;
  f.confidence = detect::Confidence::low;
  f.checksum_checked = true;
  f.checksum_failed = true;
  f.fingerprint = "0123456789abcdef";
  f.preview = "token: [REDACTED:github.pat]";
  return f;
}

std::vector<RuleInfo> some_rules() {
  return {
      {"generic.password", "Password in an assignment", detect::Severity::low},
      {"aws.access_key_id", "AWS access key ID", detect::Severity::critical},
      {"github.pat", "GitHub personal access token", detect::Severity::high},
      {"slack.webhook", "Slack webhook URL", detect::Severity::medium},
  };
}

std::string text_of(const std::vector<ReportedFinding>& findings,
                    const std::vector<ScanProblem>& problems, const ScanSummary& summary,
                    bool color) {
  std::ostringstream out;
  write_text(out, findings, problems, summary, color);
  return out.str();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// What GitHub's upload and the SARIF 2.1.0 schema require of every document.
void check_sarif_skeleton(const ordered_json& doc) {
  REQUIRE(doc.is_object());
  CHECK(doc.begin().key() == "$schema");
  CHECK(doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json");
  CHECK(doc["version"] == "2.1.0");
  REQUIRE(doc["runs"].is_array());
  REQUIRE(doc["runs"].size() == 1);
  const auto& run = doc["runs"][0];
  const auto& driver = run["tool"]["driver"];
  CHECK(driver["name"] == "x420");
  CHECK(driver["informationUri"] == "https://github.com/x420/x420");
  REQUIRE(driver["rules"].is_array());
  REQUIRE(run["results"].is_array());
  REQUIRE(run["invocations"].is_array());
  REQUIRE(run["invocations"].size() == 1);
  CHECK(run["invocations"][0]["executionSuccessful"] == true);
  for (const auto& rule : driver["rules"]) {
    CHECK(rule["id"].is_string());
    CHECK(rule["shortDescription"]["text"].is_string());
    CHECK(rule["fullDescription"]["text"].is_string());
  }
  for (const auto& result : run["results"]) {
    CHECK(result["message"]["text"].is_string());
    REQUIRE(result["ruleIndex"].is_number_unsigned());
    const auto index = result["ruleIndex"].get<size_t>();
    REQUIRE(index < driver["rules"].size());
    CHECK(driver["rules"][index]["id"] == result["ruleId"]);
    const std::set<std::string> levels = {"none", "note", "warning", "error"};
    CHECK(levels.count(result["level"].get<std::string>()) == 1);
    const auto& region = result["locations"][0]["physicalLocation"]["region"];
    CHECK(region["startLine"].get<std::uint64_t>() >= 1);
    CHECK(region["startColumn"].get<std::uint64_t>() >= 1);
    CHECK(region["endLine"].get<std::uint64_t>() >= region["startLine"].get<std::uint64_t>());
  }
  CHECK_NOTHROW(doc.dump());  // strict UTF-8: throws on invalid bytes
}

}  // namespace

TEST_CASE("text report shows location, rule, severity, masked line and fingerprint") {
  ScanSummary summary{120, 4'200'000, 0, 0.031};
  const auto text = text_of({aws_finding(), github_finding()}, {}, summary, false);
  CHECK(contains(text, "src/app.py:12:9  aws.access_key_id  critical\n"));
  CHECK(contains(text, "    aws_key = \"[REDACTED:aws.access_key_id]\"\n"));
  CHECK(contains(text, "    fingerprint 3f9a1c2e5b7d9f01\n"));
  CHECK(contains(text, "config/dev settings.yml:3:10  github.pat  medium  checksum invalid\n"));
  CHECK_FALSE(contains(text, "secret AKIA"));
  CHECK(contains(text, "\n2 secrets in 2 of 120 files (4.2 MB, 0.03 s)\n"));
  CHECK(text.back() == '\n');
}

TEST_CASE("text report without colour holds no escape byte, even from a hostile file") {
  auto f = aws_finding();
  f.path = "evil\x1b]0;pwned\x07.txt";
  f.preview = "x = 1 \x1b[2J\x1b[H all clean \xc2\x9b" "31m";
  const auto text =
      text_of({f}, {{"bad\x1b[31mname", "permission denied"}}, ScanSummary{3, 10, 1, 0}, false);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
  CHECK(text.find("\xc2\x9b") == std::string::npos);
  CHECK(contains(text, "evil\\x1b]0;pwned\\x07.txt:12:9"));
  CHECK(contains(text, "bad\\x1b[31mname: permission denied\n"));
}

TEST_CASE("text report with colour paints rule id and severity only") {
  const auto text = text_of({aws_finding()}, {}, ScanSummary{1, 100, 0, 0}, true);
  CHECK(text.find('\x1b') != std::string::npos);
  CHECK(contains(text, "\x1b[1;36maws.access_key_id\x1b[0m"));
  CHECK(contains(text, "\x1b[1;31mcritical\x1b[0m"));
  CHECK(contains(text, "src/app.py:12:9  "));  // the path stays plain, easy to copy
  const auto last_line = text.substr(text.rfind('\n', text.size() - 2) + 1);
  CHECK(last_line.find('\x1b') == std::string::npos);
}

TEST_CASE("text report prints the secret only when the finding carries it") {
  auto f = aws_finding();
  f.secret = kSecret;
  const auto text = text_of({f}, {}, ScanSummary{1, 100, 0, 0}, false);
  CHECK(contains(text, "    secret " + kSecret + "\n"));
}

TEST_CASE("text report lists problems and ends with a summary line") {
  const auto text = text_of({}, {{"vendor/pipe", "skipped: not a regular file"}},
                            ScanSummary{1, 512, 1, 0.004}, false);
  CHECK(contains(text, "vendor/pipe: skipped: not a regular file\n"));
  CHECK(contains(text, "\nno secrets in 1 file (512 B, 0.00 s, 1 skipped)\n"));
  CHECK(text_of({}, {}, ScanSummary{}, false) == "no secrets in 0 files (0 B, 0.00 s)\n");
  CHECK(text_of({aws_finding()}, {}, ScanSummary{1, 1'500, 0, 1.5}, false)
            .ends_with("\n1 secret in 1 of 1 file (1.5 kB, 1.50 s)\n"));
}

TEST_CASE("json report has findings, problems and summary in one document") {
  ScanSummary summary{120, 4'200'000, 2, 0.5};
  auto plain = aws_finding();
  plain.confidence = detect::Confidence::medium;
  auto valid = github_finding();
  valid.checksum_failed = false;
  valid.path = "-";
  const auto doc = to_json({aws_finding(), github_finding(), plain, valid},
                           {{"a.bin", "unreadable: permission denied"}}, summary);
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"findings", "problems", "summary"});

  REQUIRE(doc["findings"].size() == 4);
  const auto& f = doc["findings"][0];
  CHECK(f["path"] == "src/app.py");
  CHECK(f["line"] == 12);
  CHECK(f["column"] == 9);
  CHECK(f["end_line"] == 12);
  CHECK(f["end_column"] == 29);
  CHECK(f["rule"] == "aws.access_key_id");
  CHECK(f["description"] == "AWS access key ID");
  CHECK(f["severity"] == "critical");
  CHECK(f["confidence"] == "high");
  CHECK(f["checksum"].is_null());
  CHECK(f["fingerprint"] == "3f9a1c2e5b7d9f01");
  CHECK(f["preview"] == "aws_key = \"[REDACTED:aws.access_key_id]\"");
  CHECK_FALSE(f.contains("secret"));
  CHECK(doc["findings"][1]["checksum"] == "invalid");
  CHECK(doc["findings"][1]["severity"] == "medium");
  CHECK(doc["findings"][1]["confidence"] == "low");
  CHECK(doc["findings"][2]["confidence"] == "medium");
  CHECK(doc["findings"][3]["checksum"] == "valid");
  CHECK(doc["findings"][3]["path"] == "-");

  CHECK(doc["problems"] == ordered_json::parse(R"([{"path":"a.bin","message":"unreadable: permission denied"}])"));
  CHECK(doc["summary"]["files_scanned"] == 120);
  CHECK(doc["summary"]["bytes_scanned"] == 4'200'000);
  CHECK(doc["summary"]["files_skipped"] == 2);
  CHECK(doc["summary"]["seconds"] == 0.5);
  CHECK(doc["summary"]["findings"] == 4);
  CHECK(doc["summary"]["files_with_findings"] == 3);
  CHECK_FALSE(contains(doc.dump(), kSecret));
}

TEST_CASE("json report carries the secret only when it was asked for") {
  auto f = aws_finding();
  f.secret = kSecret;
  const auto doc = to_json({f, aws_finding()}, {}, ScanSummary{});
  CHECK(doc["findings"][0]["secret"] == kSecret);
  CHECK_FALSE(doc["findings"][1].contains("secret"));
}

TEST_CASE("json report of a clean scan and of non-UTF-8 paths is still valid JSON") {
  const auto empty = to_json({}, {}, ScanSummary{5, 10, 0, 0});
  CHECK(empty["findings"].is_array());
  CHECK(empty["findings"].empty());
  CHECK(empty["problems"].is_array());
  CHECK(empty["summary"]["findings"] == 0);

  auto f = aws_finding();
  f.path = "caf\xe9.txt";  // Latin-1 name
  const auto doc = to_json({f}, {}, ScanSummary{});
  CHECK_NOTHROW(doc.dump());
  CHECK(doc["findings"][0]["path"] == "caf\xEF\xBF\xBD.txt");
}

TEST_CASE("sarif report is a valid 2.1.0 document with rules, levels and fingerprints") {
  const auto doc = to_sarif({aws_finding(), github_finding()},
                            {{"vendor/locked.txt", "unreadable: permission denied"}}, some_rules(),
                            "0.3.1");
  check_sarif_skeleton(doc);
  const auto& run = doc["runs"][0];
  const auto& driver = run["tool"]["driver"];
  CHECK(driver["version"] == "0.3.1");
  REQUIRE(driver["rules"].size() == 4);

  const auto& rule = driver["rules"][1];
  CHECK(rule["id"] == "aws.access_key_id");
  CHECK(rule["name"] == "AwsAccessKeyId");
  CHECK(rule["shortDescription"]["text"] == "AWS access key ID");
  CHECK(rule["fullDescription"]["text"] == "AWS access key ID");
  CHECK(rule["defaultConfiguration"]["level"] == "error");
  CHECK(rule["properties"]["tags"] == ordered_json::array({"security", "secret"}));
  CHECK(rule["properties"]["security-severity"] == "9.0");
  CHECK(driver["rules"][0]["defaultConfiguration"]["level"] == "note");
  CHECK(driver["rules"][0]["properties"]["security-severity"] == "2.0");
  CHECK(driver["rules"][2]["defaultConfiguration"]["level"] == "error");
  CHECK(driver["rules"][2]["properties"]["security-severity"] == "7.5");
  CHECK(driver["rules"][3]["defaultConfiguration"]["level"] == "warning");
  CHECK(driver["rules"][3]["properties"]["security-severity"] == "5.0");

  REQUIRE(run["results"].size() == 2);
  const auto& r = run["results"][0];
  CHECK(r["ruleId"] == "aws.access_key_id");
  CHECK(r["ruleIndex"] == 1);
  CHECK(r["level"] == "error");
  CHECK(r["message"]["text"] == "aws.access_key_id: AWS access key ID found");
  const auto& loc = r["locations"][0]["physicalLocation"];
  CHECK(loc["artifactLocation"]["uri"] == "src/app.py");
  CHECK(loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%");
  CHECK(loc["region"] == ordered_json::parse(
                             R"({"startLine":12,"startColumn":9,"endLine":12,"endColumn":29})"));
  CHECK(r["partialFingerprints"]["x420/v1"] == "3f9a1c2e5b7d9f01");

  const auto& g = run["results"][1];
  CHECK(g["ruleIndex"] == 2);
  CHECK(g["level"] == "warning");  // the finding's own severity
  CHECK(contains(g["message"]["text"].get<std::string>(), "checksum invalid"));

  const auto& notes = run["invocations"][0]["toolExecutionNotifications"];
  REQUIRE(notes.size() == 1);
  CHECK(notes[0]["level"] == "error");
  CHECK(notes[0]["message"]["text"] == "vendor/locked.txt: unreadable: permission denied");
  CHECK(notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "vendor/locked.txt");
  CHECK(run["invocations"][0]["executionSuccessful"] == true);
}

TEST_CASE("sarif report never contains the secret, even when the finding carries it") {
  auto f = aws_finding();
  f.secret = kSecret;
  auto g = github_finding();
  g.secret = "ghp_" + kSecret;
  const auto dumped = to_sarif({f, g}, {}, some_rules(), "1.0.0").dump();
  CHECK_FALSE(contains(dumped, kSecret));
  CHECK_FALSE(contains(dumped, "AKIAZ7QX"));
}

TEST_CASE("sarif report gives a finding of an unlisted rule its own descriptor") {
  auto f = aws_finding();
  f.rule_id = "known.env.DEPLOY_TOKEN";
  f.rule_description = "Known secret from DEPLOY_TOKEN";
  const auto doc = to_sarif({f, aws_finding(), f}, {}, some_rules(), "1.0.0");
  check_sarif_skeleton(doc);
  const auto& driver = doc["runs"][0]["tool"]["driver"];
  REQUIRE(driver["rules"].size() == 5);
  CHECK(driver["rules"][4]["id"] == "known.env.DEPLOY_TOKEN");
  CHECK(doc["runs"][0]["results"][0]["ruleIndex"] == 4);
  CHECK(doc["runs"][0]["results"][2]["ruleIndex"] == 4);

  const auto no_rules = to_sarif({aws_finding()}, {}, {}, "1.0.0");
  check_sarif_skeleton(no_rules);
  CHECK(no_rules["runs"][0]["tool"]["driver"]["rules"].size() == 1);
}

TEST_CASE("sarif uris are relative, percent-encoded POSIX paths") {
  CHECK(sarif_artifact_location("config/dev settings.yml") ==
        ordered_json::parse(R"({"uri":"config/dev%20settings.yml","uriBaseId":"%SRCROOT%"})"));
  CHECK(sarif_artifact_location("./src/app.py")["uri"] == "src/app.py");
  CHECK(sarif_artifact_location("a#b?c%d.txt")["uri"] == "a%23b%3Fc%25d.txt");
  CHECK(sarif_artifact_location("c:notes.txt")["uri"] == "c%3Anotes.txt");  // not a scheme
  CHECK(sarif_artifact_location("caf\xc3\xa9.txt")["uri"] == "caf%C3%A9.txt");
  CHECK(sarif_artifact_location("caf\xe9.txt")["uri"] == "caf%E9.txt");
  CHECK(sarif_artifact_location("dir\\file")["uri"] == "dir%5Cfile");
  const auto abs = sarif_artifact_location("/home/me/my repo/.env");
  CHECK(abs == ordered_json::parse(R"({"uri":"file:///home/me/my%20repo/.env"})"));
  const auto stdin_loc = sarif_artifact_location("-");
  CHECK(stdin_loc["uri"] == "stdin");  // GitHub refuses a location without a uri
  CHECK_FALSE(stdin_loc.contains("uriBaseId"));
  CHECK(stdin_loc["description"]["text"] == "standard input");
}

TEST_CASE("sarif report of a clean scan is still a complete document") {
  const auto doc = to_sarif({}, {}, some_rules(), "1.0.0");
  check_sarif_skeleton(doc);
  CHECK(doc["runs"][0]["results"].empty());
  CHECK(doc["runs"][0]["invocations"][0]["toolExecutionNotifications"].empty());

  const auto bare = to_sarif({}, {}, {}, "");
  check_sarif_skeleton(bare);
  CHECK(bare["runs"][0]["tool"]["driver"]["rules"].empty());
}

TEST_CASE("sarif regions are clamped to what the format allows") {
  auto f = aws_finding();
  f.line = 0;
  f.column = 0;
  f.end_line = 0;
  f.end_column = 0;
  const auto doc = to_sarif({f}, {}, some_rules(), "1.0.0");
  check_sarif_skeleton(doc);
  const auto& region = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
  CHECK(region == ordered_json::parse(R"({"startLine":1,"startColumn":1,"endLine":1,"endColumn":1})"));
}
