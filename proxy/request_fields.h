// The top-level members of a request body that the proxy acts on (model, stream, output limits,
// stream_options), read from the values the redaction walk reports, so the body is parsed once.
// A member of the wrong type is refused here, naming it, before anything is forwarded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace x420::proxy {

// A value's raw bytes in the body that was walked: [begin, end), a string's quotes included.
struct ValueSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
};

struct RequestFields {
  std::string model;                        // "" when absent
  std::optional<ValueSpan> model_span;
  bool stream = false;
  std::optional<std::int64_t> max_output;   // the largest of max_tokens, max_completion_tokens, max_output_tokens
  std::optional<ValueSpan> stream_options;  // the member's value, when it is an object or null
  bool include_usage = false;               // stream_options.include_usage is true
};

// Fed by detect::walk_json_strings' TopMemberVisitor, in the body it walked.
class RequestFieldReader {
 public:
  explicit RequestFieldReader(std::string_view body) : body_(body) {}
  void member(std::string_view key, std::size_t begin, std::size_t end);
  // The fields, or a usage error naming the first member of the wrong type or given twice.
  Result<RequestFields> finish();

 private:
  void refuse(std::string message);
  std::string_view body_;
  RequestFields fields_;
  std::string error_;
  unsigned seen_ = 0;  // a bit per member read, to refuse one given twice
};

// A change to a body: [begin, end) becomes `text`.
struct BodyEdit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
};

// The edit that sets stream_options.include_usage to true in `body` (none when the client asked
// for it): the proxy needs the usage of every OpenAI stream to settle its cost, whatever the
// client's options say. `stream_options`: that member's value in `body`, if it has one.
std::optional<BodyEdit> stream_usage_edit(std::string_view body, const RequestFields& fields,
                                          std::optional<ValueSpan> stream_options);

// Applies edits that do not overlap, in any order given.
std::string apply_edits(std::string body, std::vector<BodyEdit> edits);

}  // namespace x420::proxy
