#include "lib/common/time_format.h"

#include <cctype>
#include <chrono>
#include <cstdio>

namespace x420 {
namespace {

constexpr UnixSeconds kMaxDuration = 10LL * 366 * 24 * 3600;

std::optional<UnixSeconds> unit_seconds(char unit) {
  switch (unit) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<UnixSeconds> parse_duration(std::string_view text) {
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;
  UnixSeconds total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    UnixSeconds number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxDuration) return std::nullopt;
      ++i;
    }
    if (i == text.size()) return std::nullopt;  // a unit is required: "30" is ambiguous
    auto unit = unit_seconds(text[i]);
    if (!unit) return std::nullopt;
    ++i;
    total += number * *unit;
    if (total > kMaxDuration) return std::nullopt;
  }
  return total;
}

std::string format_duration(UnixSeconds seconds) {
  if (seconds <= 0) return "0s";
  std::string out;
  const struct {
    UnixSeconds size;
    char unit;
  } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& u : units) {
    if (seconds >= u.size) {
      out += std::to_string(seconds / u.size);
      out += u.unit;
      seconds %= u.size;
    }
  }
  return out;
}

std::string format_timestamp(UnixSeconds t) {
  using namespace std::chrono;
  const sys_seconds tp{seconds{t}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<UnixSeconds> parse_timestamp(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  const std::string str(text);
  int n = std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail);
  if (n == 7 && tail == 'Z' && str.size() == 20) {
  } else if (n == 3 && str.size() == 10) {
    h = mi = s = 0;
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
  return duration_cast<seconds>(tp.time_since_epoch()).count();
}

}  // namespace x420
