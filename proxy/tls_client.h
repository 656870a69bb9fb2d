// The one TLS client setup, for the proxy's upstreams and the CLI's --server.
#pragma once

#include <string>

#include "proxy/asio_types.h"

namespace x420::proxy {

// The system's CA store (or the bundle in SSL_CERT_FILE / SSL_CERT_DIR), the peer's certificate
// verified, TLS 1.2 or later.
void configure_tls_client(ssl::context& context);

// Before the handshake: SNI, unless `host` is an IP literal (RFC 6066, section 3, forbids those
// there), and the certificate checked against `host`.
void prepare_tls_handshake(TlsStream& stream, const std::string& host);

}  // namespace x420::proxy
