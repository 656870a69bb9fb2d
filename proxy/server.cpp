#include "proxy/server.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fnmatch.h>

#include <algorithm>
#include <iostream>
#include <unordered_set>

#include "proxy/admin_api.h"
#include "proxy/admit.h"
#include "proxy/inference.h"
#include "proxy/proxy_state.h"
#include "lib/service/usage_view.h"

namespace x420::proxy {
namespace {

std::string query_param(std::string_view query, std::string_view name) {
  if (query.starts_with('?')) query.remove_prefix(1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// The models a tenant's upstreams serve. A plain name in --models is a model id a client can send
// as it is or as "upstream/name"; a glob ("gpt-4o*") names no model by itself, so it is listed
// as "upstream/glob" with "x420_pattern": true, for a person to read rather than to send.
// Concrete ids only, each one a client can send back as "model": what each upstream lists (as
// NAME/id, and bare where one of its globs routes it), and its literal globs. A wildcard glob is
// no model, and a picker that offered "gpt-*" would offer an id that fails.
awaitable<std::string> models_list(Proxy& p, const std::string& tenant_id) {
  nlohmann::json data = nlohmann::json::array();
  std::unordered_set<std::string> listed;
  auto entry = [&](const std::string& id, const store::UpstreamRow& u) {
    if (!listed.insert(id).second) return;  // the first upstream that routes it, as routing does
    data.push_back({{"id", id}, {"object", "model"}, {"created", u.created_at}, {"owned_by", u.name}});
  };
  const auto rows = p.upstream_rows.get(tenant_id);  // kept across the waits below
  for (const auto& u : *rows) {
    std::shared_ptr<const ModelCatalog::Ids> ids;
    auto secret = p.keyring.open_upstream_secret(u);
    if (secret) {
      const std::string_view key = secret->view();
      ids = co_await p.models.ids(p.upstreams, u, key);
    }
    for (const auto& glob : u.models)
      if (glob.find_first_of("*?[") == std::string::npos) {
        entry(glob, u);
        entry(u.name + "/" + glob, u);
      }
    if (!ids) continue;
    for (const auto& id : *ids) {
      const bool routed = std::any_of(u.models.begin(), u.models.end(), [&](const std::string& glob) {
        return ::fnmatch(glob.c_str(), id.c_str(), 0) == 0;
      });
      if (routed) entry(id, u);
      entry(u.name + "/" + id, u);
    }
  }
  co_return nlohmann::json{{"object", "list"}, {"data", data}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// GET /v1/models (OpenAI shape) and GET /v1/generation?id=gen-… (the caller's own tenant only).
// Not usage-metered: no usage row, but the access-log line.
http::response<http::string_body> read_only_route(Proxy& p, const Request& req, std::string_view path,
                                                  std::string_view query, Outcome& outcome) {
  auto fail = [&](int status, std::string_view message) {
    outcome.status = status;
    return json_response(req, static_cast<http::status>(status), error_body(ErrorShape::openai, status, message));
  };
  if (req.method() != http::verb::get) return fail(405, "use GET");
  const auto presented = bearer_or_api_key(req);
  auto key = presented.empty() ? Result<service::KeyInfo>(make_error(ErrorKind::auth, "")) : p.keys.verify(presented);
  if (!key) return fail(401, presented.empty() ? "missing API key" : "invalid API key");
  outcome.status = 200;
  // The model list is made by the caller: asking the upstreams for theirs is a wait.
  if (path == "/v1/models") return json_response(req, http::status::ok, "{}");
  const std::string id = query_param(query, "id");
  if (id.empty()) return fail(400, "give the generation's id: /v1/generation?id=gen-…");
  auto row = p.service.generation(key->tenant, id);
  if (!row) return fail(404, row.error().message);
  return json_response(req, http::status::ok,
                       nlohmann::ordered_json{{"data", service::usage_json(*row)}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The export, chunked as it is produced. A failure part-way (a record that does not open, a
// client gone) ends the connection without the last chunk, so the receiver sees a cut-off reply
// and a bundle without its "complete" trailer, never a whole-looking one.
template <class Stream>
awaitable<bool> send_export(Stream& stream, AdminReply& admin) {
  http::response<http::empty_body> head{admin.response.result(), admin.response.version()};
  for (const auto& field : admin.response) head.set(field.name_string(), field.value());
  head.erase(http::field::content_length);
  head.chunked(true);
  http::response_serializer<http::empty_body> serializer(head);
  beast::error_code ec;
  co_await http::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  std::string chunk;
  for (;;) {
    chunk.clear();
    auto more = admin.stream->next(chunk);
    if (!more) {
      // Its message names the conversation, an id the client chose: the log gets the kind only.
      spdlog::error("an export stopped part-way ({}): the caller got a bundle without its end",
                    kind_name(more.error().kind));
      co_return false;
    }
    if (!chunk.empty()) {
      auto piece = http::make_chunk(asio::buffer(chunk));
      co_await asio::async_write(stream, piece, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
    }
    if (!*more) break;
  }
  auto last = http::make_chunk_last();
  co_await asio::async_write(stream, last, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// Counts a request in flight for as long as it lives, however its coroutine ends.
class InFlight {
 public:
  explicit InFlight(std::size_t& count) : count_(count) { ++count_; }
  ~InFlight() { --count_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::size_t& count_;
};

// A connection in the set SIGTERM closes, for as long as its session lives.
class Tracked {
 public:
  Tracked(std::unordered_set<tcp::socket*>& set, tcp::socket* socket) : set_(set), socket_(socket) { set_.insert(socket_); }
  ~Tracked() { set_.erase(socket_); }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;

 private:
  std::unordered_set<tcp::socket*>& set_;
  tcp::socket* socket_;
};

// Marks a connection as waiting for its next request (nothing of one read yet) while it lives.
class IdleMark {
 public:
  IdleMark(Proxy& p, tcp::socket* socket, bool idle) : p_(p) {
    if (idle) at_ = p_.idle_connections.emplace(++p_.idle_sequence, socket).first->first;
  }
  ~IdleMark() {
    if (at_) p_.idle_connections.erase(at_);
  }
  IdleMark(const IdleMark&) = delete;
  IdleMark& operator=(const IdleMark&) = delete;

 private:
  Proxy& p_;
  std::uint64_t at_ = 0;
};

// Closes up to `n` of the connections idle longest; returns how many.
std::size_t close_idle(Proxy& p, std::size_t n) {
  std::size_t closed = 0;
  for (auto it = p.idle_connections.begin(); it != p.idle_connections.end() && closed < n; ++closed) {
    beast::error_code ignored;
    it->second->close(ignored);  // its read ends with operation_aborted; its session ends
    it = p.idle_connections.erase(it);
  }
  return closed;
}

template <class Stream>
awaitable<bool> handle(Proxy& p, Stream& stream, const Request& req, Outcome& outcome) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q);
  bool keep = req.keep_alive();

  if (path == "/healthz") {
    auto res = json_response(req, http::status::ok, "{\"status\":\"ok\"}");
    co_await send(stream, std::move(res));
    co_return keep;
  }
  if (path == "/metrics") {
    auto res = json_response(req, http::status::ok, p.metrics.text(p.in_flight, p.upstreams.idle()));
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    co_await send(stream, std::move(res));
    co_return keep;
  }
  if (is_admin_path(path)) {
    // Synchronous store calls, as the key cache's misses are; the access line names the route's
    // pattern, never the path, which a caller might have pasted a key into.
    auto admin = handle_admin(p.store, p.keyring, p.clock, req);
    outcome.status = static_cast<int>(admin.response.result_int());
    // A revoke, rotation or deletion through this service takes effect at once, not after the
    // key cache's second, and what was held for a revoked key or a deleted tenant goes with it.
    if (req.method() != http::verb::get) {
      p.keys.clear();
      p.upstream_rows.clear();
      p.forget_departed();
    }
    if (admin.stream) {
      if (!co_await send_export(stream, admin)) keep = false;
    } else {
      co_await send(stream, std::move(admin.response));
    }
    p.metrics.count(admin.route, outcome.status,
                    std::chrono::duration<double>(SteadyClock::now() - outcome.started).count(), {}, {});
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - outcome.started).count();
    spdlog::info("{} {} {} {}ms admin", std::string(req.method_string()), admin.route, outcome.status, ms);
    co_return keep;
  }
  if (path == "/v1/models" || path == "/v1/generation") {
    auto res = read_only_route(p, req, path, query, outcome);
    if (path == "/v1/models" && outcome.status == 200) {
      const auto key = p.keys.verify(bearer_or_api_key(req));  // verified above: a cache hit
      if (key) {
        const std::string tenant_id = key->tenant_id;
        std::string list = co_await models_list(p, tenant_id);  // a statement of its own (GCC 12)
        res = json_response(req, http::status::ok, std::move(list));
      }
    }
    co_await send(stream, std::move(res));
    record_request(p, req, path == "/v1/models" ? "/v1/models" : "/v1/generation", outcome);
    co_return keep;
  }
  if (const auto* endpoint = find_endpoint(path)) {
    if (req.method() != http::verb::post) {
      auto res = json_response(req, http::status::method_not_allowed,
                               error_body(endpoint->errors, 405, "use POST for " + std::string(path)));
      res.set(http::field::allow, "POST");
      outcome.status = 405;
      co_await send(stream, std::move(res));
    } else {
      const InFlight counted(p.in_flight);
      keep = co_await handle_inference(p, stream, req, *endpoint, outcome);
    }
  } else {
    outcome.status = 404;
    auto res = json_response(req, http::status::not_found,
                             error_body(ErrorShape::openai, 404, "no route " + std::string(path.substr(0, 200))));
    co_await send(stream, std::move(res));
  }
  const auto* endpoint = find_endpoint(path);
  record_request(p, req, endpoint ? endpoint->path : std::string_view("other"), outcome);
  co_return keep;
}

// Serves one connection's requests in turn (HTTP/1.1 keep-alive) until the client closes, goes
// idle, or the server is draining.
template <class Stream>
awaitable<void> serve_requests(Proxy& p, Stream& stream, beast::tcp_stream& tcp) {
  beast::flat_buffer buffer;
  while (!p.draining) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(p.config.max_body_bytes);
    parser.header_limit(64 * 1024);
    tcp.expires_after(std::chrono::seconds(p.config.client_idle_timeout_s));
    beast::error_code ec;
    {
      const IdleMark idle(p, &tcp.socket(), buffer.size() == 0);
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::operation_aborted)
      break;
    if (ec == http::error::body_limit) {
      Request req;
      req.version(11);
      req.keep_alive(false);
      auto res = json_response(req, http::status::payload_too_large,
                               error_body(ErrorShape::openai, 413, "the request body is over " +
                                                                        std::to_string(p.config.max_body_bytes) + " bytes"));
      co_await send(stream, std::move(res));
      break;
    }
    if (ec) {
      Request req;
      req.version(11);
      req.keep_alive(false);
      auto res = json_response(req, http::status::bad_request,
                               error_body(ErrorShape::openai, 400, "malformed HTTP request"));
      co_await send(stream, std::move(res));
      break;
    }
    tcp.expires_never();
    const Request req = parser.release();
    Outcome outcome;
    bool keep = false;
    bool failed = false;
    try {
      keep = co_await handle(p, stream, req, outcome);
    } catch (const std::exception& e) {
      // A bug, not the client's doing: logged by its class (never its message, which could quote
      // input); the caller gets an error in its shape if nothing of the reply went out yet.
      spdlog::error("request failed: internal error ({})", typeid(e).name());
      failed = true;
    }
    if (failed) {
      if (!outcome.reply_started) {
        const auto* endpoint = find_endpoint(ssv(req.target()).substr(0, ssv(req.target()).find('?')));
        const ErrorShape shape = endpoint ? endpoint->errors : ErrorShape::openai;
        auto res = json_response(req, http::status::internal_server_error,
                                 error_body(shape, 500, "internal error; the request was not completed"));
        res.keep_alive(false);
        co_await send(stream, std::move(res));
      }
      break;
    }
    if (!keep) break;
  }
}

awaitable<void> session(Proxy& p, tcp::socket socket) {
  beast::error_code ec;
  if (p.tls) {
    beast::ssl_stream<beast::tcp_stream> tls(std::move(socket), *p.tls);
    auto& tcp = beast::get_lowest_layer(tls);
    const Tracked tracked(p.connections, &tcp.socket());
    tcp.expires_after(std::chrono::seconds(p.config.client_idle_timeout_s));
    co_await tls.async_handshake(ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      co_await serve_requests(p, tls, tcp);
      tcp.expires_after(std::chrono::seconds(5));
      co_await tls.async_shutdown(asio::redirect_error(use_awaitable, ec));
    }
    co_return;
  }
  beast::tcp_stream stream(std::move(socket));
  {
    const Tracked tracked(p.connections, &stream.socket());
    co_await serve_requests(p, stream, stream);
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

// Runs `action` every `period` on the timer's executor until the timer is cancelled or destroyed.
template <class Duration, class Action>
void run_every(asio::steady_timer& timer, Duration period, Action action) {
  timer.expires_after(period);
  timer.async_wait([&timer, period, action](const beast::error_code& error) {
    if (error) return;
    action();
    run_every(timer, period, action);
  });
}

awaitable<void> accept_loop(Proxy& p, tcp::acceptor& acceptor) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
      // Out of descriptors: the pending connection stays queued and accept would fail again at
      // once. Connections idle longest make room (a keep-alive client reconnects); with none to
      // close, waiting lets requests finish instead of spinning a core.
      const std::size_t closed = close_idle(p, 8);
      spdlog::warn("accept: {}; closed {} idle connection(s){}", ec.message(), closed, closed ? "" : ", retrying in 50 ms");
      backoff.expires_after(std::chrono::milliseconds(closed ? 1 : 50));
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    if (ec) continue;
    // Replies go out in small writes (SSE events); Nagle plus delayed ACK would hold each one
    // back by ~40 ms.
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), session(p, std::move(socket)), asio::detached);
  }
}

Result<std::unique_ptr<ssl::context>> server_tls(const ServeConfig& config) {
  if (config.tls_cert_file.empty() && config.tls_key_file.empty()) return std::unique_ptr<ssl::context>();
  if (config.tls_cert_file.empty() || config.tls_key_file.empty())
    return make_error(ErrorKind::usage, "--tls-cert and --tls-key go together");
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);  // 1.3 is negotiated when offered
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  beast::error_code ec;
  ctx->use_certificate_chain_file(config.tls_cert_file, ec);
  if (ec) return make_error(ErrorKind::usage, "--tls-cert " + config.tls_cert_file + ": " + ec.message());
  ctx->use_private_key_file(config.tls_key_file, ssl::context::pem, ec);
  if (ec) return make_error(ErrorKind::usage, "--tls-key " + config.tls_key_file + ": " + ec.message());
  return ctx;
}

}  // namespace

Status serve(const ServeConfig& config, service::OpenStore& open, Engines engines) {
  asio::io_context io{1};
  Proxy proxy(config, open, std::move(engines.base), std::move(engines.personal));
  proxy.usage = std::make_unique<UsageWriter>(store::open_sqlite_store(config.db_path, {}), *open.keyring,
                                              std::chrono::seconds(config.conversation_sweep_s));
  auto tls = server_tls(config);
  if (!tls) return tls.error();
  proxy.tls = std::move(tls.value());
  tcp::acceptor acceptor(io);
  beast::error_code ec;
  const auto address = asio::ip::make_address(config.listen.host == "localhost" ? "127.0.0.1" : config.listen.host, ec);
  if (ec) return make_error(ErrorKind::usage, "--listen: " + config.listen.host + " is not an address");
  const tcp::endpoint endpoint{address, config.listen.port};
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::usage, "cannot listen on " + config.listen.host + ":" +
                                            std::to_string(config.listen.port) + ": " + ec.message());
  const auto bound = acceptor.local_endpoint();

  // SIGTERM/SIGINT: stop accepting, close idle connections, let in-flight requests finish (their
  // usage rows are written as they end), then stop; after drain_timeout_s, stop anyway.
  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(io);
  const auto drain_deadline = std::make_shared<SteadyClock::time_point>();
  std::function<void()> poll_drain = [&] {
    if (proxy.in_flight == 0 || SteadyClock::now() >= *drain_deadline) {
      io.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([&](const beast::error_code&) { poll_drain(); });
  };
  stop_signals.async_wait([&](const beast::error_code& error, int) {
    if (error) return;
    spdlog::info("stopping: no new connections; finishing {} in-flight request(s)", proxy.in_flight);
    proxy.draining = true;
    acceptor.close();
    for (auto* socket : proxy.connections) {
      beast::error_code ignored;
      socket->cancel(ignored);  // idle reads end; a request being relayed is not reading
    }
    *drain_deadline = SteadyClock::now() + std::chrono::seconds(config.drain_timeout_s);
    poll_drain();
  });

  // SIGHUP: rebuild the engine from the rule files; on error keep the running one.
  asio::signal_set reload_signals(io, SIGHUP);
  std::function<void()> wait_reload = [&] {
    reload_signals.async_wait([&](const beast::error_code& error, int) {
      if (error) return;
      proxy.refresh_keyring();
      if (config.reload_engines) {
        auto fresh = config.reload_engines();
        if (!fresh) {
          spdlog::error("reload failed, keeping the current rules: {}", fresh.error().message);
        } else {
          proxy.set_engines(std::move(fresh->base), std::move(fresh->personal));
          spdlog::info("reloaded: {} rules", proxy.personal_engine->rule_count());
        }
      }
      wait_reload();
    });
  };
  wait_reload();

  // Placeholder mappings age out (see PlaceholderMap::next_generation).
  asio::steady_timer placeholder_timer(io);
  run_every(placeholder_timer, std::chrono::seconds(config.placeholder_ttl_s), [&] { proxy.age_placeholders(); });

  // A key revoked or a tenant deleted by another process (x420 keys revoke, x420 account
  // delete): what the proxy holds for it is dropped within the key cache's TTL, the longest the
  // key itself could still be accepted.
  asio::steady_timer departed_timer(io);
  run_every(departed_timer, std::chrono::milliseconds(config.departed_sweep_ms), [&] { proxy.forget_departed(); });

  // A KEK rotation by another process is noticed within a second (one meta read), before a
  // request has to find out by failing to open a secret.
  asio::steady_timer kek_timer(io);
  if (config.kek_watch_s > 0)
    run_every(kek_timer, std::chrono::seconds(config.kek_watch_s), [&] {
      try {
        proxy.refresh_keyring();
      } catch (const std::exception& e) {
        spdlog::error("checking the master key failed: {}", e.what());
      }
    });

  asio::co_spawn(io, accept_loop(proxy, acceptor), asio::detached);
  if (config.announce) {
    std::cout << "listening " << bound.address().to_string() << ":" << bound.port() << std::endl;
  }
  spdlog::info("x420 serving on {}:{}{}", bound.address().to_string(), bound.port(), proxy.tls ? " (TLS)" : "");
  io.run();
  return ok_status();
}

}  // namespace x420::proxy
