// Fuzz target: a request body from a client, through the proxy's one walk (detect/json_body:
// redaction with the built-in rules, the top-level fields of proxy/request_fields) and the edit
// that asks a stream for its usage. Whatever the bytes: no crash, no unbounded recursion, and
// what would be forwarded is valid JSON again whenever the body was accepted.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "lib/detect/json_body.h"
#include "lib/detect/rule.h"
#include "proxy/request_fields.h"

using namespace x420;

namespace {

const detect::Engine& engine() {
  static const std::unique_ptr<detect::Engine> e = [] {
    detect::EngineConfig c;
    c.rules = detect::builtin_rule_file().rules;
    c.allowlist = detect::builtin_rule_file().allowlist;
    auto built = detect::Engine::build(std::move(c));
    if (!built) __builtin_trap();
    return std::move(built.value());
  }();
  return *e;
}

constexpr detect::ApiShape kShapes[] = {
    detect::ApiShape::openai_chat,        detect::ApiShape::openai_completions,  detect::ApiShape::openai_responses,
    detect::ApiShape::openai_embeddings,  detect::ApiShape::anthropic_messages, detect::ApiShape::anthropic_count_tokens};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static auto scratch = engine().make_scratch();
  static const detect::Pseudonymizer pseudonymizer(crypto::SecretBytes(reinterpret_cast<const std::uint8_t*>("0123456789abcdef0123456789abcdef"), 32));
  const auto shape = kShapes[data[0] % 6];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  proxy::RequestFieldReader reader(body);
  detect::PlaceholderMap map(detect::PlaceholderMap::Budget{.max_entries = 64, .max_bytes = 1 << 16});
  auto redacted = detect::redact_body(body, shape, engine(), *scratch, detect::RedactMode::pseudonymize, &pseudonymizer,
                                      &map, {}, [&](std::string_view k, std::size_t b, std::size_t e) { reader.member(k, b, e); });
  if (!redacted) return 0;
  auto fields = reader.finish();
  // The forwarded body is JSON the walk accepts again.
  if (detect::walk_json_strings(redacted->body, shape, [](auto, const auto&) {})) __builtin_trap();
  if (!fields) return 0;
  std::optional<proxy::ValueSpan> options;
  if (fields->stream_options)
    options = proxy::ValueSpan{redacted->moved(fields->stream_options->begin), redacted->moved(fields->stream_options->end)};
  if (auto edit = proxy::stream_usage_edit(redacted->body, *fields, options)) {
    const auto edited = proxy::apply_edits(redacted->body, {*edit});
    if (detect::walk_json_strings(edited, shape, [](auto, const auto&) {})) __builtin_trap();
  }
  return 0;
}
