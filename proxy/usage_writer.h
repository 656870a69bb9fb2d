// Usage rows written off the I/O thread: requests hand their row to a queue and move on; one
// thread with its own store connection writes them in batches, one transaction per batch. The
// queue is drained before the server exits, so a graceful stop loses no row.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace x420::proxy {

class UsageWriter {
 public:
  explicit UsageWriter(std::unique_ptr<store::Store> store);
  ~UsageWriter();  // writes what is queued, then stops

  void submit(store::UsageRow row);

 private:
  void run();

  std::unique_ptr<store::Store> store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<store::UsageRow> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace x420::proxy
