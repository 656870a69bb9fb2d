// The last step of DESIGN.md's "One request": the cost from the upstream's usage settled against
// the freezes and the rate limiter, and a stored exchange handed to the writer. A reply without
// usage is charged its estimate, never zero. (The usage row and the access-log line follow in
// record_request, as for every route.)
#pragma once

#include <optional>
#include <string>

#include "proxy/admit.h"
#include "proxy/conversation_capture.h"

namespace x420::proxy {

// The tokens to bill: the upstream's figures, or when it gave none the input estimate and the
// relayed text at four bytes a token (at least one, at most the request's output limit).
metering::BilledTokens billed_tokens(const Admission& a, const Outcome& outcome);

void settle(Proxy& p, Admission& a, Outcome& outcome);

// Hands the exchange to the writer, masked again (DESIGN.md, "Data lifecycle"), when it is stored
// and the upstream answered.
void store_exchange(Proxy& p, const Admission& a, const Outcome& outcome, std::string forwarded_body,
                    std::optional<ReplyCapture>& capture, std::string_view upstream_secret);

}  // namespace x420::proxy
