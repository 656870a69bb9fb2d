#include "lib/metering/prices.h"

#include <fnmatch.h>

#include <algorithm>
#include <limits>

#include "lib/common/money.h"

namespace x420::metering {
namespace {

constexpr std::int64_t kMillion = 1'000'000;

// "2.50" → 2'500'000 micro-USD, at compile time, so the table below reads as the price pages do
// and holds exact integers (a double would turn $0.075 into 74'999.99…).
consteval std::int64_t usd(const char* text) {
  std::int64_t whole = 0, frac = 0;
  int decimals = -1;
  for (const char* p = text; *p; ++p) {
    if (*p == '.') {
      decimals = 0;
      continue;
    }
    if (*p < '0' || *p > '9') throw "usd(): not a decimal";
    if (decimals < 0) {
      whole = whole * 10 + (*p - '0');
    } else {
      if (++decimals > 6) throw "usd(): more than 6 decimals";
      frac = frac * 10 + (*p - '0');
    }
  }
  for (decimals = std::max(decimals, 0); decimals < 6; ++decimals) frac *= 10;
  return whole * kMillion + frac;
}

// OpenAI bills no cache writes; they never appear in its usage, so they cost what input costs.
Price openai(std::int64_t input, std::int64_t cached, std::int64_t output) {
  return {input, cached, input, input, output};
}

Price embedding(std::int64_t input) { return {input, input, input, input, 0}; }

Price anthropic(std::int64_t input, std::int64_t cache_read, std::int64_t cache_write,
                std::int64_t cache_write_1h, std::int64_t output) {
  return {input, cache_read, cache_write, cache_write_1h, output};
}

std::vector<PriceEntry> make_builtin_prices() {
  // List prices, USD per million tokens, as published by the providers when this was written
  // (2025): https://openai.com/api/pricing, https://platform.openai.com/docs/pricing,
  // https://docs.anthropic.com/en/docs/about-claude/pricing. They change; config overrides them.
  // Where a model has no cache discount, cached input costs what input costs.
  const auto gpt5 = openai(usd("1.25"), usd("0.125"), usd("10"));
  const auto sonnet = anthropic(usd("3"), usd("0.30"), usd("3.75"), usd("6"), usd("15"));
  const auto opus = anthropic(usd("15"), usd("1.50"), usd("18.75"), usd("30"), usd("75"));
  return {
      // OpenAI                        input          cached          output
      {"gpt-4o*", openai(usd("2.50"), usd("1.25"), usd("10"))},
      {"gpt-4o-2024-05-13", openai(usd("5"), usd("5"), usd("15"))},
      {"chatgpt-4o*", openai(usd("5"), usd("5"), usd("15"))},
      {"gpt-4o-mini*", openai(usd("0.15"), usd("0.075"), usd("0.60"))},
      // Audio and realtime models: usage here does not split audio from text tokens, so every
      // token is billed at the (higher) audio rate rather than risk a 16x undercharge.
      {"gpt-4o-audio*", openai(usd("40"), usd("40"), usd("80"))},
      {"gpt-4o-realtime*", openai(usd("40"), usd("2.50"), usd("80"))},
      {"gpt-4o-mini-audio*", openai(usd("10"), usd("10"), usd("20"))},
      {"gpt-4o-mini-realtime*", openai(usd("10"), usd("0.30"), usd("20"))},
      {"gpt-4.1*", openai(usd("2"), usd("0.50"), usd("8"))},
      {"gpt-4.1-mini*", openai(usd("0.40"), usd("0.10"), usd("1.60"))},
      {"gpt-4.1-nano*", openai(usd("0.10"), usd("0.025"), usd("0.40"))},
      {"gpt-4.5*", openai(usd("75"), usd("37.50"), usd("150"))},
      // No "gpt-5*" catch-all: a later gpt-5.x may cost more, and unknown models get the
      // (high) default price rather than a guess.
      {"gpt-5", gpt5},
      {"gpt-5-20*", gpt5},
      {"gpt-5-chat*", gpt5},
      {"gpt-5-codex*", gpt5},
      {"gpt-5-mini*", openai(usd("0.25"), usd("0.025"), usd("2"))},
      {"gpt-5-nano*", openai(usd("0.05"), usd("0.005"), usd("0.40"))},
      {"gpt-5-pro*", openai(usd("15"), usd("15"), usd("120"))},
      {"gpt-5.1", gpt5},
      {"gpt-5.1-20*", gpt5},
      {"gpt-5.1-chat*", gpt5},
      {"gpt-5.1-codex*", gpt5},
      {"o1*", openai(usd("15"), usd("7.50"), usd("60"))},
      {"o1-mini*", openai(usd("1.10"), usd("0.55"), usd("4.40"))},
      {"o1-pro*", openai(usd("150"), usd("150"), usd("600"))},
      {"o3*", openai(usd("2"), usd("0.50"), usd("8"))},
      {"o3-mini*", openai(usd("1.10"), usd("0.55"), usd("4.40"))},
      {"o3-pro*", openai(usd("20"), usd("20"), usd("80"))},
      {"o3-deep-research*", openai(usd("10"), usd("2.50"), usd("40"))},
      {"o4-mini*", openai(usd("1.10"), usd("0.275"), usd("4.40"))},
      {"o4-mini-deep-research*", openai(usd("2"), usd("0.50"), usd("8"))},
      {"codex-mini*", openai(usd("1.50"), usd("0.375"), usd("6"))},
      {"gpt-4", openai(usd("30"), usd("30"), usd("60"))},
      {"gpt-4-0314", openai(usd("30"), usd("30"), usd("60"))},
      {"gpt-4-0613", openai(usd("30"), usd("30"), usd("60"))},
      {"gpt-4-32k*", openai(usd("60"), usd("60"), usd("120"))},
      {"gpt-4-turbo*", openai(usd("10"), usd("10"), usd("30"))},
      {"gpt-4-0125*", openai(usd("10"), usd("10"), usd("30"))},
      {"gpt-4-1106*", openai(usd("10"), usd("10"), usd("30"))},
      {"gpt-4-vision*", openai(usd("10"), usd("10"), usd("30"))},
      {"gpt-3.5-turbo*", openai(usd("0.50"), usd("0.50"), usd("1.50"))},
      {"gpt-3.5-turbo-16k*", openai(usd("3"), usd("3"), usd("4"))},
      {"gpt-3.5-turbo-instruct*", openai(usd("1.50"), usd("1.50"), usd("2"))},
      {"text-embedding-3-small*", embedding(usd("0.02"))},
      {"text-embedding-3-large*", embedding(usd("0.13"))},
      {"text-embedding-ada-002*", embedding(usd("0.10"))},
      // Anthropic                        input   cache read  write 5m  write 1h  output
      {"claude-3-haiku*", anthropic(usd("0.25"), usd("0.03"), usd("0.30"), usd("0.50"), usd("1.25"))},
      {"claude-3-5-haiku*", anthropic(usd("0.80"), usd("0.08"), usd("1"), usd("1.60"), usd("4"))},
      {"claude-haiku-4*", anthropic(usd("1"), usd("0.10"), usd("1.25"), usd("2"), usd("5"))},
      {"claude-3-sonnet*", sonnet},
      {"claude-3-5-sonnet*", sonnet},
      {"claude-3-7-sonnet*", sonnet},
      {"claude-sonnet-4*", sonnet},
      {"claude-3-opus*", opus},
      {"claude-opus-4*", opus},
      {"claude-opus-4-5*", anthropic(usd("5"), usd("0.50"), usd("6.25"), usd("10"), usd("25"))},
  };
}

}  // namespace

BilledTokens openai_tokens(std::int64_t prompt_tokens, std::int64_t cached_tokens,
                           std::int64_t completion_tokens) {
  prompt_tokens = std::max<std::int64_t>(prompt_tokens, 0);
  cached_tokens = std::clamp<std::int64_t>(cached_tokens, 0, prompt_tokens);
  return {prompt_tokens - cached_tokens, cached_tokens, 0, 0, completion_tokens};
}

BilledTokens anthropic_tokens(std::int64_t input_tokens, std::int64_t cache_read_input_tokens,
                              std::int64_t cache_creation_input_tokens,
                              std::int64_t cache_creation_1h, std::int64_t output_tokens) {
  cache_creation_input_tokens = std::max<std::int64_t>(cache_creation_input_tokens, 0);
  cache_creation_1h = std::clamp<std::int64_t>(cache_creation_1h, 0, cache_creation_input_tokens);
  return {input_tokens, cache_read_input_tokens, cache_creation_input_tokens - cache_creation_1h,
          cache_creation_1h, output_tokens};
}

std::int64_t cost_micros(const Price& price, const BilledTokens& tokens) {
  const std::pair<std::int64_t, std::int64_t> parts[] = {
      {tokens.input, price.input},
      {tokens.cached_input, price.cached_input},
      {tokens.cache_write, price.cache_write},
      {tokens.cache_write_1h, price.cache_write_1h},
      {tokens.output, price.output},
  };
  // tokens x price / 1e6, exactly: split price = pq·1e6 + pr and tokens = tq·1e6 + tr, so
  //   tokens x price / 1e6 = tokens·pq + tq·pr + (tr·pr) / 1e6,
  // where only the last term has a fraction, and tr·pr < 1e12 cannot overflow.
  std::int64_t whole = 0, millionths = 0;
  for (auto [t, p] : parts) {
    t = std::max<std::int64_t>(t, 0);
    p = std::max<std::int64_t>(p, 0);
    const std::int64_t pq = p / kMillion, pr = p % kMillion;
    const std::int64_t tq = t / kMillion, tr = t % kMillion;
    whole = saturating_add(whole, saturating_add(saturating_mul(t, pq), saturating_mul(tq, pr)));
    millionths += tr * pr;  // at most 5 x 1e12
  }
  whole = saturating_add(whole, millionths / kMillion);
  return millionths % kMillion ? saturating_add(whole, 1) : whole;
}

int glob_specificity(std::string_view pattern) {
  int score = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*') continue;
    if (c == '?') {
      score += 1;
    } else if (c == '[') {
      // A bracket expression as fnmatch reads it: a ']' first (after an optional '!') is a
      // member; with no closing ']', the '[' is an ordinary character.
      std::size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '!') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') ++j;
      if (j < pattern.size()) {
        score += 1;
        i = j;
      } else {
        score += 2;
      }
    } else {
      if (c == '\\' && i + 1 < pattern.size()) ++i;  // an escaped character is a literal
      score += 2;
    }
  }
  return score;
}

const std::vector<PriceEntry>& PriceTable::builtin_prices() {
  static const std::vector<PriceEntry> prices = make_builtin_prices();
  return prices;
}

PriceTable PriceTable::with_builtin_prices() {
  PriceTable table;
  for (const auto& e : builtin_prices()) table.rows_.push_back({e, glob_specificity(e.pattern), false});
  return table;
}

Price PriceTable::default_price() {
  return {usd("15"), usd("15"), usd("18.75"), usd("30"), usd("75")};
}

Status PriceTable::add_overrides(const std::vector<PriceEntry>& entries) {
  for (const auto& e : entries) {
    if (e.pattern.empty()) return make_error(ErrorKind::usage, "a price override has an empty model pattern");
    const Price& p = e.price;
    if (p.input < 0 || p.cached_input < 0 || p.cache_write < 0 || p.cache_write_1h < 0 || p.output < 0)
      return make_error(ErrorKind::usage, "the price for '" + e.pattern + "' is negative (prices are USD per million tokens, 0 or more)");
  }
  for (const auto& e : entries) {
    auto same = std::find_if(rows_.begin(), rows_.end(), [&](const Row& r) { return r.entry.pattern == e.pattern; });
    if (same != rows_.end()) {
      same->entry.price = e.price;
      same->is_override = true;
    } else {
      rows_.push_back({e, glob_specificity(e.pattern), true});
    }
  }
  return ok_status();
}

PriceMatch PriceTable::lookup(std::string_view model) const {
  const std::string name(model);  // fnmatch wants a terminated string
  const Row* best = nullptr;
  for (const auto& row : rows_) {
    if (::fnmatch(row.entry.pattern.c_str(), name.c_str(), 0) != 0) continue;
    // Strictly better only: on a full tie the earlier row stays.
    if (!best || row.specificity > best->specificity ||
        (row.specificity == best->specificity && row.is_override && !best->is_override))
      best = &row;
  }
  if (!best) return {default_price(), "", true};
  return {best->entry.price, best->entry.pattern, false};
}

}  // namespace x420::metering
