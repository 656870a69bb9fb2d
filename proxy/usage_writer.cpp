#include "proxy/usage_writer.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace x420::proxy {

namespace {
constexpr std::size_t kMaxBatch = 512;
constexpr std::size_t kMaxQueued = 100'000;  // past this the I/O thread would rather drop than grow
}  // namespace

UsageWriter::UsageWriter(std::unique_ptr<store::Store> store)
    : store_(std::move(store)), thread_([this] { run(); }) {}

UsageWriter::~UsageWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void UsageWriter::submit(store::UsageRow row) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      spdlog::error("usage queue full: a usage row was dropped");
      return;
    }
    queue_.push_back(std::move(row));
  }
  wake_.notify_one();
}

void UsageWriter::run() {
  std::vector<store::UsageRow> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    try {
      store_->write_transaction([&] {
        for (const auto& row : batch) store_->insert_usage(row);
      });
    } catch (const std::exception& e) {
      spdlog::error("{} usage row(s) not written: {}", batch.size(), e.what());
    }
    batch.clear();
  }
}

}  // namespace x420::proxy
