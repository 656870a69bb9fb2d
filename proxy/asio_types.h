// The Asio/Beast names the proxy's files share, and the conversions Beast in Boost 1.74 needs
// (it has its own string_view).
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <string_view>

namespace x420::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Request = http::request<http::string_body>;
using SteadyClock = std::chrono::steady_clock;  // Asio timers and elapsed times; decisions use lib/common/clock.h
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

inline beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ssv(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace x420::proxy
