#include "proxy/tls_client.h"

namespace x420::proxy {

void configure_tls_client(ssl::context& context) {
  context.set_default_verify_paths();  // honours SSL_CERT_FILE and SSL_CERT_DIR
  context.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
}

void prepare_tls_handshake(TlsStream& stream, const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
  stream.set_verify_callback(ssl::host_name_verification(host));
}

}  // namespace x420::proxy
