// What a model costs: a price table of list prices per million tokens, keyed by model glob, and
// the exact cost of a request in integer micro-USD, rounded up so that a cap is never undercharged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace x420::metering {

// USD per million tokens, held as integer micro-USD per million tokens: "$0.075 / 1M" is 75'000,
// what common/money.h's parse_usd_micros("0.075") returns, so config can feed it directly.
// A token at P micro-USD/Mtok costs P / 1'000'000 micro-USD: sums stay exact integers until the
// one rounding at the end of cost_micros().
struct Price {
  std::int64_t input = 0;           // input tokens read neither from nor into a prompt cache
  std::int64_t cached_input = 0;    // input tokens read from the prompt cache
  std::int64_t cache_write = 0;     // input tokens written to the cache, 5-minute TTL (Anthropic)
  std::int64_t cache_write_1h = 0;  // input tokens written to the cache, 1-hour TTL (Anthropic)
  std::int64_t output = 0;          // output tokens, reasoning and thinking tokens included

  friend bool operator==(const Price&, const Price&) = default;
};

// One request's tokens, split by the price each one is billed at. The providers count
// differently, so build it with openai_tokens() or anthropic_tokens() rather than by hand.
struct BilledTokens {
  std::int64_t input = 0;
  std::int64_t cached_input = 0;
  std::int64_t cache_write = 0;
  std::int64_t cache_write_1h = 0;
  std::int64_t output = 0;
};

// OpenAI (chat, completions, responses, embeddings): prompt_tokens / input_tokens INCLUDE
// prompt_tokens_details.cached_tokens; completion_tokens include reasoning tokens. OpenAI does
// not bill cache writes.
BilledTokens openai_tokens(std::int64_t prompt_tokens, std::int64_t cached_tokens,
                           std::int64_t completion_tokens);

// Anthropic (messages): input_tokens EXCLUDES cache_read_input_tokens and
// cache_creation_input_tokens. `cache_creation_1h` is the part of cache_creation_input_tokens
// written with a 1-hour TTL (usage.cache_creation.ephemeral_1h_input_tokens), billed higher.
// https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing
BilledTokens anthropic_tokens(std::int64_t input_tokens, std::int64_t cache_read_input_tokens,
                              std::int64_t cache_creation_input_tokens,
                              std::int64_t cache_creation_1h, std::int64_t output_tokens);

// ceil(sum over kinds of tokens x price / 1'000'000) micro-USD. One rounding for the whole
// request, and upward, so a request billed in parts never costs less than its exact price.
// Negative counts (an upstream's junk) count as zero; a total beyond int64 saturates at its max,
// which every cap refuses.
std::int64_t cost_micros(const Price& price, const BilledTokens& tokens);

// A table row: a glob over the model name as sent upstream (after "upstream/" is stripped),
// matched with fnmatch(3) and no flags, as the upstreams' --models globs are.
struct PriceEntry {
  std::string pattern;
  Price price;
};

struct PriceMatch {
  Price price;
  std::string pattern;      // the winning glob; "" when the model matched nothing
  bool is_default = false;  // unknown model, priced at the table's default_price()
};

// Which row prices a model, when several globs match ("gpt-4o-mini-2024-07-18" matches both
// "gpt-4o*" and "gpt-4o-mini*"): the MOST SPECIFIC one, the glob with the most characters that
// must match literally ('?' and '[...]' count half a literal, '*' nothing). Order does not
// matter, so an override never has to be placed anywhere, and a broad override ("claude-*")
// does not silently reprice the narrower built-ins under it. Ties go to an override over a
// built-in, then to the earlier row.
//
// A model that matches nothing is priced at default_price(), deliberately high rather than free:
// with no price a cap could never bite, and a new model is usually priced like the top of its
// family. The default is an Opus/o1-class price: $15 input (cache reads too: its discount is
// unknown), $18.75/$30 cache writes, $75 output per million tokens. A self-hosted or free model
// gets its own entry at 0; an override for "*" changes the price of every unknown model.
class PriceTable {
 public:
  // Empty: every model costs default_price().
  PriceTable() = default;

  // The built-in list prices (prices.cpp). They are the providers' published list prices as of
  // this build's writing (2025) — no batch, priority, regional or long-context (>200k input
  // tokens) premiums — and they go stale: config overrides them (add_overrides).
  static PriceTable with_builtin_prices();
  static const std::vector<PriceEntry>& builtin_prices();

  // The override hook, fed from config. An entry whose pattern is already in the table (built-in
  // or an earlier override) replaces that row; any other is added. Refuses, changing nothing, an
  // empty pattern or a negative price, naming the pattern.
  Status add_overrides(const std::vector<PriceEntry>& entries);

  PriceMatch lookup(std::string_view model) const;

  static Price default_price();

 private:
  struct Row {
    PriceEntry entry;
    int specificity = 0;  // 2 per literal character, 1 per '?' or bracket expression
    bool is_override = false;
  };
  std::vector<Row> rows_;
};

// How specific a glob is, for PriceTable's precedence (exposed for tests).
int glob_specificity(std::string_view pattern);

}  // namespace x420::metering
