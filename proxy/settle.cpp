#include "proxy/settle.h"

#include <algorithm>

#include "lib/service/conversations.h"

namespace x420::proxy {

metering::BilledTokens billed_tokens(const Admission& a, const Outcome& outcome) {
  const auto& u = outcome.usage;
  if (outcome.usage_reported)
    return a.kind == UpstreamKind::anthropic
               ? metering::anthropic_tokens(u.input, u.cached, u.cache_write, u.cache_write_1h, u.output)
               : metering::openai_tokens(u.input, u.cached, u.output);
  // No usage (an upstream that leaves it out, a stream cut short): the estimate.
  const std::int64_t relayed = static_cast<std::int64_t>((outcome.reply_text_bytes + 3) / 4);
  const std::int64_t output = std::clamp<std::int64_t>(relayed, 1, std::max<std::int64_t>(1, a.estimate.max_output_tokens));
  return metering::openai_tokens(a.estimate.input_tokens, 0, output);
}

void settle(Proxy& p, Admission& a, Outcome& outcome) {
  // The upstream answered (or was answering when the client left): it is charged. Nothing reached
  // it, or it refused with an error: nothing is.
  const bool answered = outcome.ttfb_ms && (outcome.status < 400 || outcome.status == 499);
  const auto billed = answered || outcome.usage_reported ? billed_tokens(a, outcome) : metering::BilledTokens{};
  if (!outcome.usage_reported && answered) {
    outcome.usage.input = billed.input;
    outcome.usage.output = billed.output;
  }
  outcome.cost_micros = metering::cost_micros(a.price, billed);
  if (a.key_freeze.active()) a.key_freeze.settle(outcome.cost_micros);
  if (a.tenant_freeze.active()) a.tenant_freeze.settle(outcome.cost_micros);
  p.limiter.settle(outcome.key->id, a.estimate.total(), outcome.usage.input + outcome.usage.output,
                   p.clock.steady_ms());
}

void store_exchange(Proxy& p, const Admission& a, const Outcome& outcome, std::string forwarded_body,
                    std::optional<ReplyCapture>& capture, std::string_view upstream_secret) {
  if (!capture || !a.storing || outcome.status <= 0 || outcome.status >= 400) return;
  const service::KeyInfo& key = *outcome.key;
  service::ConversationWrite exchange;
  exchange.tenant_id = key.tenant_id;
  exchange.conversation_id = a.storing->conversation_id;
  exchange.key_id = key.id;
  exchange.generation_id = outcome.generation_id;
  exchange.now = p.clock.now();
  exchange.ttl = a.storing->ttl;
  // Only redacted text is stored: the request is as forwarded (unredacted under a key whose
  // mode is off), and the reply is as the upstream wrote it, which may hold secrets of its own.
  exchange.request_text = p.masked(std::move(forwarded_body), upstream_secret);
  exchange.response_text = p.masked(capture->finish(), upstream_secret);
  p.usage->submit(std::move(exchange));
}

}  // namespace x420::proxy
