#include "proxy/usage_writer.h"

#include <unordered_map>

#include <spdlog/spdlog.h>

#include <vector>

#include "lib/common/clock.h"

namespace x420::proxy {

namespace {
constexpr std::size_t kMaxBatch = 512;
constexpr std::size_t kMaxQueued = 100'000;  // past this the I/O thread would rather drop than grow
// After the first row of a batch arrives, the writer waits this long for more before committing:
// at 1,000 requests/s that is one commit per ~20 rows instead of one per row, which the writer
// thread (and the core it shares with the I/O thread) paid for on every request. A row reaches
// the store at most this much later; SIGTERM still drains everything.
constexpr auto kLinger = std::chrono::milliseconds(20);
// The writer sleeps on an empty queue, or lingers until a batch is full: only those two sizes
// need a wake-up (any other time it will look at the queue without one).
bool writer_waits_for(std::size_t queued) { return queued == 1 || queued == kMaxBatch; }

}  // namespace

UsageWriter::UsageWriter(std::unique_ptr<store::Store> store, const service::Keyring& keyring,
                         std::chrono::seconds sweep_every)
    : store_(std::move(store)), keyring_(keyring), sweep_every_(sweep_every), thread_([this] { run(); }) {}

UsageWriter::~UsageWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void UsageWriter::submit(store::UsageRow row) { enqueue(std::move(row), "a usage row was dropped"); }

void UsageWriter::submit(service::ConversationWrite exchange) {
  enqueue(std::move(exchange), "a conversation exchange was not stored");
}

void UsageWriter::enqueue(Item item, const char* dropped) {
  bool wake_writer = false;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      spdlog::error("write queue full: {}", dropped);
      return;
    }
    queue_.emplace_back(std::move(item));
    wake_writer = writer_waits_for(queue_.size());
  }
  if (wake_writer) wake_.notify_one();
}

void UsageWriter::write(std::vector<Item>& batch) {
  std::vector<const store::UsageRow*> rows;
  for (const auto& item : batch) {
    if (const auto* row = std::get_if<store::UsageRow>(&item)) {
      rows.push_back(row);
      continue;
    }
    // Each exchange commits on its own: one bad record does not take a batch of rows with it.
    if (auto s = service::record_exchange(*store_, keyring_, std::get<service::ConversationWrite>(item)); !s)
      spdlog::error("a conversation exchange was not stored: {}", s.error().message);
  }
  if (rows.empty()) return;
  try {
    // Each key's last use, once per batch: the latest of its rows.
    std::unordered_map<std::string_view, UnixSeconds> last_used;
    for (const auto* row : rows) {
      auto& at = last_used[row->key_id];
      at = std::max(at, row->created_at);
    }
    store_->write_transaction([&] {
      for (const auto* row : rows) store_->insert_usage(*row);
      for (const auto& [key, at] : last_used) store_->touch_key(key, at);
    });
  } catch (const std::exception& e) {
    spdlog::error("{} usage row(s) not written: {}", rows.size(), e.what());
  }
}

void UsageWriter::sweep() {
  try {
    const auto deleted = service::sweep_expired_conversations(*store_, SystemClock().now());
    if (deleted > 0) spdlog::info("swept {} expired conversation(s)", deleted);
  } catch (const std::exception& e) {
    spdlog::error("conversation sweep failed: {}", e.what());
  }
}

void UsageWriter::run() {
  std::vector<Item> batch;
  auto next_sweep = std::chrono::steady_clock::now();
  for (;;) {
    bool sweep_now = false;
    {
      std::unique_lock lock(mutex_);
      auto ready = [&] { return stopping_ || !queue_.empty(); };
      if (sweep_every_.count() > 0) {
        wake_.wait_until(lock, next_sweep, ready);
        sweep_now = std::chrono::steady_clock::now() >= next_sweep;
      } else {
        wake_.wait(lock, ready);
      }
      if (queue_.empty() && stopping_) return;
      if (!stopping_ && !queue_.empty() && queue_.size() < kMaxBatch)
        wake_.wait_for(lock, kLinger, [&] { return stopping_ || queue_.size() >= kMaxBatch; });
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write(batch);
    batch.clear();
    if (sweep_now) {
      sweep();
      next_sweep = std::chrono::steady_clock::now() + sweep_every_;
    }
  }
}

}  // namespace x420::proxy
