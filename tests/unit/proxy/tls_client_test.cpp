#include "proxy/tls_client.h"

#include <catch2/catch.hpp>

using namespace x420::proxy;

TEST_CASE("the TLS client verifies the peer, needs TLS 1.2, and sends SNI for names only") {
  ssl::context context(ssl::context::tls_client);
  configure_tls_client(context);
  CHECK(SSL_CTX_get_verify_mode(context.native_handle()) == SSL_VERIFY_PEER);
  CHECK(SSL_CTX_get_min_proto_version(context.native_handle()) == TLS1_2_VERSION);

  asio::io_context io;
  TlsStream by_name(io, context);
  prepare_tls_handshake(by_name, "api.example.com");
  const char* sni = SSL_get_servername(by_name.native_handle(), TLSEXT_NAMETYPE_host_name);
  REQUIRE(sni != nullptr);
  CHECK(std::string(sni) == "api.example.com");

  // RFC 6066, section 3: an address is not a host name and is not sent as one.
  for (const char* address : {"127.0.0.1", "::1"}) {
    INFO(address);
    TlsStream by_address(io, context);
    prepare_tls_handshake(by_address, address);
    CHECK(SSL_get_servername(by_address.native_handle(), TLSEXT_NAMETYPE_host_name) == nullptr);
  }
}
