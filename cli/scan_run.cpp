#include "cli/scan_run.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

#include "lib/crypto/secret_bytes.h"
#include "lib/detect/line_index.h"

namespace x420::cli {
namespace {

constexpr std::size_t kBinaryProbe = 8192;
constexpr std::size_t kPreviewReach = 80;  // bytes of context each side of a secret
constexpr std::size_t kStdinChunk = 1 << 20;

std::string human_size(std::uint64_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  else if (bytes >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  return buf;
}

bool looks_binary(std::string_view data) {
  return std::memchr(data.data(), '\0', std::min(data.size(), kBinaryProbe)) != nullptr;
}

// Findings of one text, located and previewed. `base_line` and `base_offset` place a window of
// a stream in the whole.
void report(const detect::Engine& engine, std::string_view text, const std::string& display,
            const std::vector<detect::Finding>& findings, bool show_secrets,
            std::vector<ReportedFinding>& out, std::uint64_t base_offset = 0,
            std::uint64_t base_line = 0) {
  detect::LineLocator locate(text);
  for (const auto& f : findings) {
    const std::uint64_t start = f.start - base_offset, end = f.end - base_offset;
    ReportedFinding r;
    r.path = display;
    const auto begin = locate.locate(start);
    r.line = begin.line + base_line;
    r.column = begin.column;
    // The end, counted from the start: secrets rarely span lines (private keys do).
    const auto secret_text = text.substr(start, end - start);
    const auto newlines = static_cast<std::uint64_t>(std::count(secret_text.begin(), secret_text.end(), '\n'));
    r.end_line = r.line + newlines;
    const auto last_nl = secret_text.rfind('\n');
    r.end_column = last_nl == std::string_view::npos ? r.column + secret_text.size()
                                                     : secret_text.size() - last_nl;
    const auto& rule = engine.rule(f.rule);
    r.rule_id = rule.id;
    r.rule_description = rule.description;
    r.severity = rule.severity;
    r.data_class = rule.data_class;
    r.confidence = f.confidence;
    r.checksum_checked = rule.validator == detect::Validator::github_crc32 ||
                         rule.validator == detect::Validator::x420_checksum;
    r.checksum_failed = f.checksum_failed;
    r.fingerprint = f.fingerprint;
    if (show_secrets) r.secret = std::string(text.substr(start, end - start));

    // The preview: the finding's line around it, every secret on it masked.
    std::uint64_t line_start = start - (begin.column - 1);
    const std::uint64_t from = std::max<std::uint64_t>(line_start, start > kPreviewReach ? start - kPreviewReach : 0);
    std::uint64_t line_end = start;
    while (line_end < text.size() && text[line_end] != '\n' && line_end < end + kPreviewReach) ++line_end;
    std::string preview = from > line_start ? "…" : "";
    std::uint64_t at = from;
    for (const auto& g : findings) {
      const std::uint64_t gs = g.start - base_offset, ge = g.end - base_offset;
      if (ge <= from || gs >= line_end) continue;
      if (gs > at) preview.append(text.substr(at, gs - at));
      preview += "[REDACTED:" + engine.rule(g.rule).id + "]";
      at = std::max(at, ge);
    }
    if (at < line_end) preview.append(text.substr(at, line_end - at));
    if (line_end < text.size() && text[line_end] != '\n') preview += "…";
    r.preview = std::move(preview);
    out.push_back(std::move(r));
  }
}

struct FileResult {
  std::vector<ReportedFinding> findings;
  std::optional<ScanProblem> error;
  std::optional<ScanProblem> notice;
  std::uint64_t bytes = 0;
  bool scanned = false;
};

// Maps the file read-only (no copy, and pages the kernel can drop) and scans it.
FileResult scan_file(const detect::Engine& engine, detect::Engine::Scratch& scratch,
                     const ScanSource& source, const ScanSettings& settings) {
  FileResult r;
  auto error = [&](const std::string& why) { r.error = ScanProblem{source.display, why}; return r; };
  if (source.content) {
    const std::string_view text(*source.content);
    if (text.size() > settings.max_file_size) {
      r.notice = ScanProblem{source.display, "skipped: " + human_size(text.size()) + " is over the " +
                                                 human_size(settings.max_file_size) + " limit (--max-size)"};
      return r;
    }
    if (looks_binary(text)) return r;
    report(engine, text, source.display, engine.scan(text, scratch), settings.show_secrets, r.findings);
    r.bytes = text.size();
    r.scanned = true;
    return r;
  }
  const int fd = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return error(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return error(why);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return error("not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > settings.max_file_size) {
    ::close(fd);
    r.notice = ScanProblem{source.display, "skipped: " + human_size(size) + " is over the " +
                                               human_size(settings.max_file_size) + " limit (--max-size)"};
    return r;
  }
  if (size == 0) {
    ::close(fd);
    r.scanned = true;
    return r;
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) return error(std::strerror(map_errno));
  ::madvise(map, size, MADV_SEQUENTIAL);
  const std::string_view text(static_cast<const char*>(map), size);
  if (!looks_binary(text)) {
    report(engine, text, source.display, engine.scan(text, scratch), settings.show_secrets, r.findings);
    r.bytes = size;
    r.scanned = true;
  }
  ::munmap(map, size);
  return r;
}

// A line on stderr, redrawn a few times a second once the scan has run for a second.
class Progress {
 public:
  Progress(bool enabled, std::size_t total, const std::atomic<std::size_t>& done,
           const std::atomic<std::uint64_t>& bytes)
      : enabled_(enabled) {
    if (!enabled_) return;
    thread_ = std::thread([this, total, &done, &bytes] {
      const auto start = std::chrono::steady_clock::now();
      std::unique_lock lock(mutex_);
      while (!stop_) {
        cv_.wait_for(lock, std::chrono::milliseconds(200));
        if (stop_ || std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) continue;
        std::cerr << "\r\x1b[Kscanning: " << done.load() << "/" << total << " files, "
                  << human_size(bytes.load()) << std::flush;
        drawn_ = true;
      }
      if (drawn_) std::cerr << "\r\x1b[K" << std::flush;
    });
  }
  ~Progress() {
    if (!enabled_) return;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  bool enabled_;
  bool stop_ = false;
  bool drawn_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace

void scan_sources(const detect::Engine& engine, const std::vector<ScanSource>& sources,
                  const ScanSettings& settings, ScanOutcome& outcome) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<FileResult> results(sources.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<std::uint64_t> bytes{0};
  unsigned threads = settings.threads ? settings.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(1, sources.size())));
  {
    Progress progress(settings.progress, sources.size(), done, bytes);
    auto worker = [&] {
      auto scratch = engine.make_scratch();
      for (std::size_t i; (i = next.fetch_add(1)) < sources.size();) {
        results[i] = scan_file(engine, *scratch, sources[i], settings);
        bytes += results[i].bytes;
        ++done;
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  for (auto& r : results) {
    for (auto& f : r.findings) outcome.findings.push_back(std::move(f));
    if (r.error) outcome.errors.push_back(std::move(*r.error));
    if (r.notice) outcome.notices.push_back(std::move(*r.notice));
    if (r.scanned) {
      ++outcome.summary.files_scanned;
      outcome.summary.bytes_scanned += r.bytes;
    } else {
      ++outcome.summary.files_skipped;
    }
  }
  outcome.summary.seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void scan_stdin(const detect::Engine& engine, const ScanSettings& settings, ScanOutcome& outcome) {
  const auto started = std::chrono::steady_clock::now();
  auto scratch = engine.make_scratch();
  detect::StreamScanner scanner(engine, *scratch);
  // A window of the stream that still holds every byte a finding reported now can cover, with
  // the number of lines before it, so findings get line numbers without keeping the stream.
  std::string window;
  std::uint64_t window_offset = 0, lines_before = 0, total = 0;
  const std::size_t keep = engine.max_span() + 2;
  std::string chunk(kStdinChunk, '\0');
  auto on_findings = [&](std::vector<detect::Finding>& found) {
    if (found.empty()) return;
    report(engine, window, "-", found, settings.show_secrets, outcome.findings, window_offset, lines_before);
    found.clear();
  };
  std::vector<detect::Finding> found;
  auto collect = [&](const detect::Finding& f, std::string_view) { found.push_back(f); };
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      outcome.errors.push_back({"-", std::string("cannot read standard input: ") + std::strerror(errno)});
      break;
    }
    if (n == 0) break;
    const std::string_view piece(chunk.data(), static_cast<std::size_t>(n));
    window.append(piece);
    total += piece.size();
    scanner.feed(piece, collect);
    on_findings(found);
    if (window.size() > keep) {
      const std::size_t drop = window.size() - keep;
      lines_before += std::count(window.begin(), window.begin() + drop, '\n');
      window.erase(0, drop);
      window_offset += drop;
    }
  }
  scanner.finish(collect);
  on_findings(found);
  crypto::wipe(window);
  crypto::wipe(chunk);
  ++outcome.summary.files_scanned;
  outcome.summary.bytes_scanned += total;
  outcome.summary.seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace x420::cli
