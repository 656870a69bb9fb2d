// The admin API under /x420/v1/: everything the CLI does with --server, over HTTP. A thin adapter
// over LocalService: authenticate the management token, build the service for the Actor it
// stands for (which decides what is visible), call one operation, and answer with the JSON
// document the CLI prints with --json. The routes are listed in admin_api.cpp.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string_view>

#include "lib/common/clock.h"
#include "lib/common/result.h"
#include "lib/service/account_export.h"
#include "lib/service/keyring.h"
#include "lib/service/service.h"
#include "lib/store/store.h"

namespace x420::proxy {

inline constexpr std::string_view kAdminPrefix = "/x420/v1/";

inline bool is_admin_path(std::string_view path) {
  return path.starts_with(kAdminPrefix) || path == kAdminPrefix.substr(0, kAdminPrefix.size() - 1);
}

struct AdminReply {
  boost::beast::http::response<boost::beast::http::string_body> response;
  // The route's pattern ("/x420/v1/tenants/{tenant}/keys/{id}"), for metrics and the access log,
  // which must not carry what the caller put in the path (it might paste a key there).
  std::string_view route;
  // Set for the export: `response` is then only the head, and the body is this producer's
  // output, sent chunked as it is made so that memory does not grow with the account.
  std::optional<service::AccountExport> stream = std::nullopt;
};

// Answers one request whose path is under /x420/v1/. Synchronous: every step is a store call.
// Errors are {"error":{"kind","message"}} with the status of their kind (usage 400, auth 401,
// forbidden 403, not_found 404, conflict 409, unavailable 503, internal 500). Nothing here logs
// a body, a token or a key; an internal error's detail goes to the log, not to the caller.
AdminReply handle_admin(store::Store& store, const service::Keyring& keyring, const Clock& clock,
                        const boost::beast::http::request<boost::beast::http::string_body>& request);

// Who the request's management token (Authorization: Bearer) stands for; ErrorKind::auth when
// there is none or it is not valid.
Result<service::Actor> admin_actor(store::Store& store, const service::Keyring& keyring,
                                   const boost::beast::http::request<boost::beast::http::string_body>& request);

// An error as every admin route answers it: {"error":{"kind","message"}} with its kind's status.
boost::beast::http::response<boost::beast::http::string_body> admin_error_response(
    const boost::beast::http::request<boost::beast::http::string_body>& request, const Error& error);

}  // namespace x420::proxy
