#include "lib/export/bundle_check.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace x420::exporting {
namespace {

using json = nlohmann::json;

// Deeper than any bundle x420 writes (a record is at depth 4); more is not an export.
constexpr std::size_t kMaxDepth = 16;

constexpr std::array<std::string_view, 7> kSections = {"format", "exported_at", "account", "keys",
                                                       "upstreams", "conversations", "usage"};

// Tracks where in the document the parser is (the key at depth 1, the array being counted) and
// counts the elements of each list. Stops at the first problem.
class Checker : public nlohmann::json_sax<json> {
 public:
  std::optional<std::string> problem;
  std::optional<std::size_t> syntax_error_at;
  bool ended_early = false;
  BundleSummary summary;
  BundleCounts claimed;
  bool saw_complete = false;
  std::vector<std::string> seen_sections;

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return integer(v > static_cast<number_unsigned_t>(INT64_MAX) ? -1 : static_cast<std::int64_t>(v));
  }
  bool number_float(number_float_t, const string_t&) override {
    if (in_complete()) return fail("the \"complete\" counts must be whole numbers");
    return scalar();
  }
  bool binary(binary_t&) override { return scalar(); }

  bool string(string_t& v) override {
    if (depth_ == 1 && section_ == "format") {
      summary.format = v;
      if (v != kExportFormat)
        return fail("its \"format\" is not " + std::string(kExportFormat) + " (another program's file, or a newer x420's)");
    }
    if (depth_ == 2 && section_ == "account" && key_ == "name") summary.tenant = v.substr(0, 64);
    if (in_complete()) return fail("the \"complete\" counts must be numbers");
    return scalar();
  }

  bool start_object(std::size_t) override {
    if (depth_ == 1 && section_ == "complete") saw_complete = true;
    count_element();
    return push('{');
  }

  bool end_object() override {
    pop();
    if (depth_ == 0) return finish();
    if (depth_ == 1) section_done();
    return true;
  }

  bool start_array(std::size_t) override {
    if (depth_ == 0) return fail("it is a JSON list, not an x420 export (an object)");
    count_element();
    if (depth_ == 1) list_ = section_;
    else if (depth_ == 3 && section_ == "conversations" && key_ == "records") list_ = "records";
    return push('[');
  }

  bool end_array() override {
    pop();
    if (depth_ == 1) section_done();
    if (depth_ == 3) list_ = section_;
    return true;
  }

  bool key(string_t& k) override {
    if (depth_ == 1) {
      if (saw_complete) return fail("it has a member after \"complete\", which must come last");
      if (seen_sections.empty() && k != "format")
        return fail("it does not start with \"format\": not an x420 export");
      section_ = k;
      seen_sections.push_back(k.substr(0, 40));
    }
    key_ = k.substr(0, 40);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    syntax_error_at = position;
    ended_early = std::string_view(e.what()).find("end of input") != std::string_view::npos;
    return false;
  }

 private:
  bool in_complete() const { return depth_ == 2 && section_ == "complete"; }

  bool scalar() {
    if (depth_ == 0) return fail("it is a single JSON value, not an x420 export (an object)");
    count_element();
    return true;
  }

  bool integer(std::int64_t v) {
    if (in_complete()) {
      if (v < 0) return fail("a \"complete\" count is negative or too large");
      if (key_ == "keys") claimed.keys = v;
      else if (key_ == "upstreams") claimed.upstreams = v;
      else if (key_ == "conversations") claimed.conversations = v;
      else if (key_ == "records") claimed.records = v;
      else if (key_ == "usage") claimed.usage = v;
    }
    return scalar();
  }

  // An element directly inside one of the lists being counted.
  void count_element() {
    if (depth_ == 2 && stack_.back() == '[') {
      if (list_ == "keys") ++summary.counts.keys;
      else if (list_ == "upstreams") ++summary.counts.upstreams;
      else if (list_ == "conversations") ++summary.counts.conversations;
      else if (list_ == "usage") ++summary.counts.usage;
    } else if (depth_ == 4 && list_ == "records" && stack_.back() == '[') {
      ++summary.counts.records;
    }
  }

  bool push(char kind) {
    stack_.push_back(kind);
    ++depth_;
    if (depth_ > kMaxDepth) return fail("it nests deeper than " + std::to_string(kMaxDepth) + " levels: not an x420 export");
    return true;
  }

  void pop() {
    stack_.pop_back();
    --depth_;
  }

  void section_done() { list_.clear(); }

  bool finish() {
    for (auto s : kSections) {
      bool found = false;
      for (const auto& seen : seen_sections) found = found || seen == s;
      if (!found) return fail("it has no \"" + std::string(s) + "\" section");
    }
    if (!saw_complete)
      return fail("it has no trailing \"complete\" section: the export was cut off before it finished");
    const auto mismatch = [&](const char* what, std::int64_t claimed_n, std::int64_t found_n) {
      return fail(std::string("it holds ") + std::to_string(found_n) + " " + what + " but its \"complete\" section says " +
                  std::to_string(claimed_n));
    };
    const auto& c = summary.counts;
    if (c.keys != claimed.keys) return mismatch("keys", claimed.keys, c.keys);
    if (c.upstreams != claimed.upstreams) return mismatch("upstreams", claimed.upstreams, c.upstreams);
    if (c.conversations != claimed.conversations) return mismatch("conversations", claimed.conversations, c.conversations);
    if (c.records != claimed.records) return mismatch("records", claimed.records, c.records);
    if (c.usage != claimed.usage) return mismatch("usage rows", claimed.usage, c.usage);
    return true;
  }

  bool fail(std::string why) {
    if (!problem) problem = std::move(why);
    return false;
  }

  std::size_t depth_ = 0;
  std::vector<char> stack_;
  std::string section_;  // the key at depth 1
  std::string key_;      // the last key read
  std::string list_;     // the list whose elements are being counted
};

}  // namespace

Result<BundleSummary> check_bundle(std::istream& in) {
  Checker checker;
  const bool ok = json::sax_parse(in, &checker, json::input_format_t::json, /*strict=*/true);
  if (checker.problem) return make_error(ErrorKind::usage, "not a valid x420 export: " + *checker.problem);
  if (checker.syntax_error_at) {
    // A cut inside a string or a number is reported as that token's error, not as the end of
    // input: an error with nothing left after it is a cut all the same.
    if (checker.ended_early || in.peek() == std::char_traits<char>::eof())
      return make_error(ErrorKind::usage, "not a complete x420 export: it ends early, at byte " +
                                              std::to_string(*checker.syntax_error_at) +
                                              " (the file is truncated)");
    return make_error(ErrorKind::usage, "not a valid x420 export: it is not valid JSON at byte " +
                                            std::to_string(*checker.syntax_error_at) + " (the file was altered or garbled)");
  }
  if (!ok) return make_error(ErrorKind::usage, "not a valid x420 export");
  return checker.summary;
}

}  // namespace x420::exporting
