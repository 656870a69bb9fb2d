#include "proxy/admin_input.h"

#include <cctype>
#include <cmath>
#include <limits>

#include "lib/common/money.h"

namespace x420::proxy::admin {

std::string_view bearer_token(std::string_view v) {
  auto scheme_is_bearer = [&] {
    constexpr std::string_view kBearer = "bearer ";
    for (std::size_t i = 0; i < kBearer.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(v[i])) != kBearer[i]) return false;
    return true;
  };
  if (v.size() <= 7 || !scheme_is_bearer()) return {};
  auto token = v.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

Result<std::string> percent_decode(std::string_view text, bool query_component) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      const int hi = i + 2 < text.size() ? hex(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return make_error(ErrorKind::usage, "malformed percent-encoding in the URL");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && query_component) {
      c = ' ';
    }
    if (c == '\0' || (!query_component && c == '/')) return make_error(ErrorKind::usage, "the URL holds an encoded NUL or slash");
    out.push_back(c);
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto name = percent_decode(pair.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!name) return name.error();
      if (!value) return value.error();
      out[*name] = *value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Result<nlohmann::json> parse_body(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return nlohmann::json::object();
  bool too_deep = false;
  nlohmann::json::parser_callback_t limit = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxBodyDepth) too_deep = true;
    return !too_deep;
  };
  auto doc = nlohmann::json::parse(text, limit, /*allow_exceptions=*/false);
  if (too_deep) return make_error(ErrorKind::usage, "the JSON body nests deeper than " + std::to_string(kMaxBodyDepth) + " levels");
  if (doc.is_discarded()) return make_error(ErrorKind::usage, "the body is not valid JSON");
  if (doc.is_null()) return nlohmann::json::object();
  if (!doc.is_object()) return make_error(ErrorKind::usage, "the body must be a JSON object");
  return doc;
}

BodyFields::BodyFields(const nlohmann::json& body, std::initializer_list<std::string_view> allowed) : body_(body) {
  for (const auto& [name, value] : body_.items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == name;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail("unknown field '" + name.substr(0, 64) + "' (this route takes: " + list + ")");
      break;
    }
  }
}

const nlohmann::json* BodyFields::find(const char* name) const {
  const auto it = body_.find(name);
  return it == body_.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> BodyFields::text(const char* name, bool required) {
  const auto* v = find(name);
  if (!v) {
    if (required) fail(std::string("field '") + name + "' is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    fail(std::string("field '") + name + "' must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::int64_t> BodyFields::integer(const char* name) {
  const auto* v = find(name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() ||
      (v->is_number_unsigned() && v->get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())) {
    fail(std::string("field '") + name + "' must be a whole number");
    return std::nullopt;
  }
  return v->get<std::int64_t>();
}

std::optional<std::int64_t> BodyFields::seconds(const char* name) {
  auto v = integer(name);
  if (v && (*v < 0 || *v > kMaxDurationSeconds)) {
    fail(std::string("field '") + name + "' must be 0 to " + std::to_string(kMaxDurationSeconds) +
         " seconds (3660 days)");
    return std::nullopt;
  }
  return v;
}

bool BodyFields::boolean(const char* name) {
  const auto* v = find(name);
  if (!v) return false;
  if (!v->is_boolean()) fail(std::string("field '") + name + "' must be true or false");
  return v->is_boolean() && v->get<bool>();
}

std::optional<std::int64_t> BodyFields::usd_micros(const char* name) {
  const auto* v = find(name);
  if (!v) return std::nullopt;
  std::optional<std::int64_t> micros;
  if (v->is_string()) micros = parse_usd_micros(v->get_ref<const std::string&>());
  else if (v->is_number() && v->get<double>() >= 0 && v->get<double>() <= 1e9)
    micros = static_cast<std::int64_t>(std::llround(v->get<double>() * 1e6));
  if (!micros) fail(std::string("field '") + name + "' must be an amount in dollars (12.50)");
  return micros;
}

std::vector<std::string> BodyFields::text_list(const char* name) {
  std::vector<std::string> out;
  const auto* v = find(name);
  if (!v) return out;
  bool ok = v->is_array();
  if (ok)
    for (const auto& item : *v) {
      if (!item.is_string()) ok = false;
      else out.push_back(item.get<std::string>());
    }
  if (!ok) fail(std::string("field '") + name + "' must be a list of strings");
  return out;
}

Status BodyFields::status() const {
  if (problem_) return make_error(ErrorKind::usage, *problem_);
  return ok_status();
}

void BodyFields::fail(std::string why) {
  if (!problem_) problem_ = std::move(why);
}

}  // namespace x420::proxy::admin
