#include "proxy/client_watch.h"

#include <sys/socket.h>

namespace x420::proxy {

ClientWatch::ClientWatch(tcp::socket& client, std::function<void()> on_gone)
    : state_(std::make_shared<State>(State{&client, std::move(on_gone)})) {
  arm(state_);
}

ClientWatch::~ClientWatch() {
  state_->active = false;
  beast::error_code ignored;
  state_->socket->cancel(ignored);  // nothing else is pending on it once the relay is over
}

void ClientWatch::arm(const std::shared_ptr<State>& state) {
  state->socket->async_wait(tcp::socket::wait_read, [state](const beast::error_code& ec) {
    if (!state->active || ec) return;
    char byte;
    const auto n = ::recv(state->socket->native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      state->gone = true;
      state->active = false;
      state->on_gone();
      return;
    }
    // Bytes from the client (a pipelined request, a TLS record) are for the next read; this
    // watch cannot tell more and stops here. A spurious wake-up waits again.
    if (n < 0) arm(state);
  });
}

}  // namespace x420::proxy
