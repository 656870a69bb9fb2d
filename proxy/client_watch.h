// Notices a client that hangs up while the proxy is waiting on the upstream (before the first
// byte of a reply, or between the events of a quiet stream), when no write to the client would
// fail yet. The proxy then closes the upstream request instead of letting a model generate, and
// bill, a reply nobody reads.
#pragma once

#include <functional>
#include <memory>

#include "proxy/asio_types.h"

namespace x420::proxy {

class ClientWatch {
 public:
  // Calls `on_gone` (on the socket's executor) once the client's end is closed. Watches until
  // destroyed; the socket must outlive the watch.
  ClientWatch(tcp::socket& client, std::function<void()> on_gone);
  ~ClientWatch();
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  bool gone() const { return state_->gone; }

 private:
  struct State {
    tcp::socket* socket;
    std::function<void()> on_gone;
    bool active = true;
    bool gone = false;
  };
  static void arm(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

}  // namespace x420::proxy
