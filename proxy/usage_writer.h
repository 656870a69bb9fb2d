// Usage rows and stored conversations written off the I/O thread: requests hand what they write
// to a queue and move on; one thread with its own store connection writes usage rows in batches
// (one transaction per batch) and each exchange of a stored conversation in a transaction of its
// own, and sweeps expired conversations on a schedule. The queue is drained before the server
// exits, so a graceful stop loses nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include "lib/service/conversations.h"
#include "lib/service/keyring.h"
#include "lib/store/store.h"

namespace x420::proxy {

class UsageWriter {
 public:
  // `sweep_every`: how often expired conversations are deleted (0: never).
  UsageWriter(std::unique_ptr<store::Store> store, const service::Keyring& keyring,
              std::chrono::seconds sweep_every = std::chrono::minutes(5));
  ~UsageWriter();  // writes what is queued, then stops

  void submit(store::UsageRow row);
  void submit(service::ConversationWrite exchange);

 private:
  using Item = std::variant<store::UsageRow, service::ConversationWrite>;
  void run();
  void enqueue(Item item, const char* dropped);
  void write(std::vector<Item>& batch);
  void sweep();

  std::unique_ptr<store::Store> store_;
  const service::Keyring& keyring_;
  std::chrono::seconds sweep_every_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace x420::proxy
