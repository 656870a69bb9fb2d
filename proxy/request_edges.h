// What leaves for the upstream outside the body: the query string of the client's request and
// the header values the proxy passes on (upstream_request.h, forwarded_header). Scanned with the
// engine like body text (DESIGN.md, "One request"): each query parameter percent-decoded, as
// `name=value`, and each forwarded header's value as it is. No socket here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/detect/engine.h"
#include "lib/detect/redactor.h"
#include "proxy/asio_types.h"
#include "proxy/upstream_request.h"

namespace x420::proxy {

// Where a secret was found, for a refusal: "the query string" or "header openai-organization"
// (the header's name as sent, lowercased), and the rule's id. Never the secret.
struct EdgeFinding {
  std::string where;
  std::string rule;
};

struct EdgeRedaction {
  std::string query;                          // what goes upstream, with its '?' (or empty)
  std::vector<ForwardedHeader> replaced;      // forwarded headers whose value changed
  std::vector<EdgeFinding> findings;          // the query's first, then the headers' by name
};

// Scans `query` (as the client sent it, from its '?') and the forwarded headers of `client`.
// With `mode` pseudonymize or mask, each secret is replaced: in the query, the parameter is
// percent-encoded again around the replacement (a parameter with no finding keeps its bytes);
// in a header, the placeholder or mask stands in its value. `scan_only`: nothing is replaced
// (the block policy refuses on any finding). Fails (ErrorKind::usage, a message naming the part
// and never a value) on a query that is not valid percent-encoding or a header whose redacted
// value could not be sent.
Result<EdgeRedaction> redact_edges(const Request& client, std::string_view query, const detect::Engine& engine,
                                   detect::Engine::Scratch& scratch, bool scan_only, detect::RedactMode mode,
                                   const detect::Pseudonymizer* pseudonymizer, detect::PlaceholderMap* map);

}  // namespace x420::proxy
