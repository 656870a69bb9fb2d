// Restoring placeholders inside a JSON document (a provider's reply, one SSE event's data),
// with each secret escaped for where it lands: once inside an ordinary string, twice inside a
// string whose text is JSON itself (tool-call arguments), so an agent's arguments still parse.
#pragma once

#include <string>
#include <string_view>

#include "lib/detect/redactor.h"

namespace x420::detect {

// Members whose string value is JSON text in every API x420 serves: OpenAI chat
// tool_calls[].function.arguments, Responses function_call.arguments (and the stream events
// that repeat it), Anthropic's input_json_delta partial_json.
bool holds_json_text(std::string_view key);

// `json` with every known placeholder in its string values replaced by its secret, escaped as
// above; the document's other bytes are kept as they are. Text that is not JSON, or nests
// deeper than the walk allows, is restored as one JSON string level instead (never left
// unparsed by a recursive parser).
std::string restore_json(std::string_view json, const PlaceholderMap& map);

}  // namespace x420::detect
