// Redacting an LLM API request body: a strict, bounded JSON walk (RFC 8259) that finds every
// string value that can carry user text, then one engine pass and replacements spliced into the
// original bytes, so key order, spacing and numbers go upstream untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/common/result.h"
#include "lib/detect/engine.h"
#include "lib/detect/redactor.h"

namespace x420::detect {

// The request bodies the proxy redacts, one per route (DESIGN.md, "The service").
enum class ApiShape {
  openai_chat,             // POST /v1/chat/completions
  openai_completions,      // POST /v1/completions
  openai_responses,        // POST /v1/responses
  openai_embeddings,       // POST /v1/embeddings
  anthropic_messages,      // POST /v1/messages
  anthropic_count_tokens,  // POST /v1/messages/count_tokens
};

std::string_view api_shape_name(ApiShape shape);

// Bounds on what the walk accepts: a body over either is refused, never partly processed.
struct JsonLimits {
  std::size_t max_depth = 64;                 // nested objects and arrays
  std::size_t max_bytes = 32 * 1024 * 1024;   // Anthropic's own request limit is 32 MB
  // A key given twice in one object is refused: x420 and the provider could read different
  // values (RFC 8259 leaves it to the parser which one wins). Replies are walked without it.
  bool refuse_duplicate_keys = true;
};

// Where and why a body is not JSON (or is over a limit). `reason` is static text: it never holds
// bytes of the body, so it is safe in an error reply or a log line.
struct JsonError {
  std::size_t offset = 0;
  std::string_view reason;
  // For a duplicate key: the key when it is a plain lowercase name, as the APIs' own keys are
  // (anything else could be the user's text and is not repeated), else "".
  std::string key;
  enum class Kind { syntax, over_limit, duplicate_key };
  Kind kind = Kind::syntax;  // over_limit: depth or size, the JSON may be valid but is not walked
};

// One step of the path to a value: an object member's key (raw bytes between its quotes, escapes
// not decoded) or an array index.
struct PathStep {
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};
using JsonPath = std::span<const PathStep>;

// "messages[3].content[0].text"; "" for the top-level value.
std::string path_string(JsonPath path);

// An encoded payload the policy recognised (rules 1 and 2 below).
enum class Payload : std::uint8_t {
  none,
  base64,    // the whole value is base64 (source.data, file_data, input_audio.data)
  data_url,  // "data:<media type>;base64,<payload>"
};

struct StringValue {
  std::size_t begin = 0;  // the raw content between the quotes: [begin, end), escapes as sent
  std::size_t end = 0;
  bool carries_user_text = true;  // false for payloads and opaque tokens
  bool is_key = false;            // an object member's key
  bool in_free_form = false;      // under a free-form member (below): the keys are the user's
  Payload payload = Payload::none;
  // A payload's declared media type, lowercased, as far as the body says: the data URL's, or the
  // sibling "media_type"; "" when unknown. Valid during the call.
  std::string_view media_type;
};

// Called for every string value and for every object key: keys can be the user's text too
// ({"sk-proj-…": 1} in a tool's input). `path` is valid during the call; for a key, it ends with
// that key.
using StringVisitor = std::function<void(JsonPath path, const StringValue& value)>;

// Called once per member of a top-level object, after its value: the key (decoded; valid during
// the call) and the value's raw bytes [begin, end), a string's quotes included. The proxy reads
// model, stream, max_tokens and stream_options from these, so the body is parsed once.
using TopMemberVisitor = std::function<void(std::string_view key, std::size_t begin, std::size_t end)>;

// The policy: which string values carry user text. Every string is, and every key, except this
// short list — what is left out is what the provider must get back byte for byte, or what the
// proxy reads itself:
//   1. a base64 data URL ("data:<media type>;base64,<payload>", the payload only base64
//      characters): OpenAI image_url.url, input_image.image_url, file_data. It is reported as
//      a payload with its media type: redact_body decodes the text ones and scans them. A
//      "data:" string with anything else in it (a message that starts "data: my key is …") is
//      text.
//   2. a base64 payload, recognised by its key and, where the API has one, its sibling "type",
//      and only when its content is base64 characters:
//        Anthropic image/document blocks: source.data when source.type == "base64", with the
//          sibling source.media_type (source.type "text" holds a plain-text document: text);
//        OpenAI chat input_audio.data; file.file_data (chat) and input_file.file_data (Responses).
//      The "type" member may come after "data" (JSON objects are unordered), so a "data" member
//      seen before its object's "type" is decided when the object closes — an exact decision
//      from the real sibling, not a guess from the content's look. No look-ahead is needed:
//      the decision is deferred, the walk stays one pass.
//   3. an opaque provider token that must go back unchanged and holds no user text:
//      Anthropic thinking.signature and redacted_thinking.data, Responses
//      reasoning.encrypted_content.
//   4. `model`, which the proxy routes on and checks for secrets itself (a secret-shaped model
//      is refused, not rewritten).
// Everything else is user text: messages, system prompts, tool definitions, tool-call arguments
// (JSON inside a string: redact_body walks it too) and tool_use input objects, tool results,
// names, ids (a tool call's id comes back in the tool result: the same placeholder in both keeps
// them paired), roles, types and the other enumerations (scanning them costs nothing, and no
// rule matches an enumeration's word), URLs, stop sequences, `user`, `metadata`, and the keys.
// Under a free-form member — tool_use `input` (an object), function `parameters`,
// `input_schema`, `schema`, `metadata`, `variables`, `headers` — the keys are the user's, so
// rules 2-4 do not apply there ({"model": "sk-…"} inside a tool's input is user text).
//
// API references:
//   https://platform.openai.com/docs/api-reference/chat/create
//   https://platform.openai.com/docs/api-reference/completions/create
//   https://platform.openai.com/docs/api-reference/responses/create
//   https://platform.openai.com/docs/api-reference/embeddings/create
//   https://docs.anthropic.com/en/api/messages
//   https://docs.anthropic.com/en/api/messages-count-tokens
//
// The walk is iterative (an explicit stack bounded by max_depth: no input can exhaust the call
// stack), builds no DOM and accepts exactly RFC 8259 JSON: any top-level value, no BOM, no
// comments, no trailing commas, no leading zeros, no control characters or bad escapes in
// strings, nothing after the value, and (by default) no key twice in one object. Strings that
// are not valid UTF-8 are refused; lone \u surrogates are accepted as the grammar allows.
// Values are visited in document order, except a deferred "data" member (rule 2), visited when its
// object closes. Returns the first error, or nothing when the whole body is valid — and when
// there is an error, some values may already have been visited: callers fail closed.
std::optional<JsonError> walk_json_strings(std::string_view body, ApiShape shape,
                                           const StringVisitor& visit,
                                           const JsonLimits& limits = {},
                                           const TopMemberVisitor& top = {});

// The content of a JSON string, decoded: `raw` is what walk_json_strings reports (the bytes
// between the quotes, escapes as sent, already validated by the walk).
void decode_json_string(std::string_view raw, std::string& out);

// Whether no object or array in `json` nests deeper than `max_depth` (brackets inside strings do
// not count). A cheap pre-check before handing text from outside to a recursive parser.
bool json_nesting_within(std::string_view json, std::size_t max_depth);

struct BodyRedaction {
  std::string body;              // the request to forward
  std::size_t redactions = 0;    // secrets replaced (the x420-redactions header)
  // Each secret's rule and byte offset in the original body, for a `block` refusal — never the
  // secret itself.
  std::vector<std::pair<std::string, std::size_t>> findings;
  // Encoded payloads (base64, data: URLs) whose media type is not text (images, PDF, audio,
  // unknown types): forwarded unscanned, and counted so the caller can refuse them by policy
  // and count them in x420_unscanned_payloads_total.
  std::size_t unscanned = 0;

  // Where a byte offset of the original body landed in `body` (splices before it moved it).
  std::size_t moved(std::size_t original_offset) const;

  struct Splice {
    std::size_t begin = 0, end = 0;  // in the original body
    std::size_t length = 0;          // of what replaced it
  };
  std::vector<Splice> splices;  // in order, as applied
};

// Redacts a request body: walks it, scans the user-text values with ONE Engine::scan pass, and
// replaces each secret in place with "[REDACTED:rule_id]" (mask) or the pseudonymizer's
// placeholder, recorded in `map` (pseudonymize; as detect::redact, mask when no pseudonymizer).
//
// The engine sees the values decoded, as the user wrote them: a key after "\n" at the start of a
// line, a password inside tool-call arguments ({\"password\": \"…\"}) or a PEM key with its
// newlines are found where the raw escaped bytes would hide them from the rules. The scanned
// text holds each user-text value on a line of its own; a member whose key is not a prose field
// (content, text, input, prompt, system, arguments…) is written with its key, as JSON
// ("password": "…"), so a tool_use input or metadata object reads as a pasted config would.
// Each decoded span is mapped back to the raw bytes, widened to whole escape sequences and whole
// UTF-8 characters, so the output stays valid JSON with valid UTF-8 (replacements are plain
// ASCII with no quote or backslash). A placeholder stands for the decoded secret, so restoring it
// with Restorer::Escape::json_string gives the client the real value, escaped again. (Only the
// body's own JSON is kept valid: JSON nested inside a string, as tool-call arguments are, stays
// valid too unless a secret starts or ends inside one of the nested escapes.)
//
// The scanned text holds decoded secrets; it is wiped before returning.
//
// Only a secret wholly inside one user-text value is replaced; one crossing a value's boundary or
// lying in a non-text value (rule 1-4 above) is left alone. Fails closed: a body that is not
// valid JSON, is over a limit, or that the engine cannot scan yields an error (HTTP 400) and no
// body at all.
Result<BodyRedaction> redact_body(std::string_view body, ApiShape shape, const Engine& engine,
                                  Engine::Scratch& scratch, RedactMode mode,
                                  const Pseudonymizer* pseudonymizer, PlaceholderMap* map,
                                  const JsonLimits& limits = {}, const TopMemberVisitor& top = {});

}  // namespace x420::detect
