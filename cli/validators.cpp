#include "cli/validators.h"

#include <charconv>
#include <limits>

namespace x420::cli {

CLI::Validator whole_number(std::int64_t min, std::int64_t max) {
  std::string form = "must be a whole number ";
  if (max == std::numeric_limits<std::int64_t>::max())
    form += "≥ " + std::to_string(min);
  else
    form += "from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, form](std::string& text) -> std::string {
        std::int64_t value = 0;
        const char* end = text.data() + text.size();
        const bool digits_only =
            !text.empty() && text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) ==
                                 std::string::npos;
        const auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (!digits_only || ec != std::errc() || ptr != end || value < min || value > max)
          return form;
        return {};
      },
      "", "whole_number");
}

CLI::Validator one_of(std::vector<std::string> choices) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  std::string description = "{";
  for (const auto& c : choices) description += (description.size() > 1 ? "," : "") + c;
  description += "}";
  return CLI::Validator(
      [choices, list](std::string& text) -> std::string {
        for (const auto& c : choices)
          if (text == c) return {};
        return "must be one of " + list;
      },
      description, "one_of");
}

}  // namespace x420::cli
