#include "cli/scan_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "lib/detect/path_filter.h"

namespace x420::cli {
namespace {

// Real ignore files are a few KiB; the cap keeps a hostile tree from making us hold gigabytes.
constexpr std::size_t kMaxIgnoreFileBytes = std::size_t{16} << 20;

std::string describe_errno(int error) {
  switch (error) {
    case EACCES:
    case EPERM:
      return "permission denied";
    case ENOENT:
      return "no such file or directory";
    case ENOTDIR:
      return "not a directory";
    case ENAMETOOLONG:
      return "path too long";
    case ELOOP:
      return "too many levels of symbolic links";
    default: {
      std::string text = std::strerror(error);
      if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z')
        text[0] = static_cast<char>(text[0] - 'A' + 'a');  // "Input/output error" mid-sentence
      return text;
    }
  }
}

std::string not_regular(mode_t mode) {
  const char* kind = S_ISFIFO(mode)   ? "FIFO"
                     : S_ISSOCK(mode) ? "socket"
                     : S_ISCHR(mode)  ? "character device"
                     : S_ISBLK(mode)  ? "block device"
                                      : "unknown type";
  return std::string("not a regular file (") + kind + ")";
}

enum class Kind { file, directory, symlink, special, unknown };

Kind kind_of_mode(mode_t mode) {
  if (S_ISREG(mode)) return Kind::file;
  if (S_ISDIR(mode)) return Kind::directory;
  if (S_ISLNK(mode)) return Kind::symlink;
  return Kind::special;
}

Kind kind_of_dirent(unsigned char type) {
  switch (type) {
    case DT_REG:
      return Kind::file;
    case DT_DIR:
      return Kind::directory;
    case DT_LNK:
      return Kind::symlink;
    case DT_FIFO:
    case DT_SOCK:
    case DT_CHR:
    case DT_BLK:
      return Kind::special;
    default:
      return Kind::unknown;  // some file systems leave d_type empty: ask lstat
  }
}

struct DirEntry {
  std::string name;
  Kind kind;
  int error = 0;  // why the kind is unknown
};

std::string join(std::string_view directory, std::string_view name) {
  std::string out(directory);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;
using Identity = std::pair<dev_t, ino_t>;

// Inside a tree O_NOFOLLOW closes the gap between readdir saying "directory" and the open: a
// directory swapped for a symbolic link in between is refused, not followed.
DirHandle open_directory(const std::string& path, bool follow, int& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) {
    error = errno;
    return nullptr;
  }
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    error = errno;
    ::close(fd);
    return nullptr;
  }
  return DirHandle(dir);
}

// The entries but "." and "..", sorted by name. False (with what could be read) on an error.
bool list_directory(DIR* dir, std::vector<DirEntry>& entries, int& error) {
  bool complete = true;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir);
    if (!e) {
      if (errno != 0) {
        error = errno;
        complete = false;
      }
      break;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    DirEntry entry{std::string(name), kind_of_dirent(e->d_type)};
    if (entry.kind == Kind::unknown) {
      struct stat st;
      if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        entry.kind = kind_of_mode(st.st_mode);
      else
        entry.error = errno;
    }
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return complete;
}

// Reads an ignore file next to `dir`. Not following links and not blocking matter: a
// .gitignore that is a link or a FIFO would otherwise leak another file's lines or hang the
// scan (git itself refuses symlinked .gitignore files). Absent or not a regular file: nothing.
std::optional<std::string> read_ignore_file(DIR* dir, const char* name, int& error) {
  int fd = ::openat(::dirfd(dir), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR) error = errno;
    return std::nullopt;
  }
  std::string text;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = errno;
  } else if (!S_ISREG(st.st_mode)) {
    // not a place for patterns: skipped like an absent file
  } else if (static_cast<std::uint64_t>(st.st_size) > kMaxIgnoreFileBytes) {
    error = EFBIG;
  } else {
    char buffer[16384];
    for (;;) {
      ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        error = errno;
        break;
      }
      if (got == 0) break;
      text.append(buffer, static_cast<std::size_t>(got));
      if (text.size() > kMaxIgnoreFileBytes) {
        error = EFBIG;
        break;
      }
    }
  }
  ::close(fd);
  if (error != 0) return std::nullopt;
  return text;
}

class TreeWalk {
 public:
  TreeWalk(const WalkOptions& options, const std::function<void(const WalkEntry&)>& on_file,
           const std::function<void(const WalkProblem&)>& on_problem, WalkStats& stats)
      : options_(options), on_file_(on_file), on_problem_(on_problem), stats_(stats) {}

  void run(const std::string& root);

 private:
  // One directory being walked. The walk keeps its own stack rather than recursing, so a
  // tree thousands of levels deep costs heap, not the call stack.
  struct Frame {
    std::string display;   // as the user will see it and the scanner will open it
    std::string relative;  // to the root, what ignore patterns are matched against
    std::vector<DirEntry> entries;
    std::size_t next = 0;
    Identity identity;
  };

  bool enter(std::string display, std::string relative, bool follow);
  void load_ignore_file(DIR* dir, const std::string& display, const char* name,
                        std::string_view base);
  void problem(std::string path, std::string reason) {
    on_problem_({std::move(path), std::move(reason)});
  }

  const WalkOptions& options_;
  const std::function<void(const WalkEntry&)>& on_file_;
  const std::function<void(const WalkProblem&)>& on_problem_;
  WalkStats& stats_;
  detect::IgnoreRules rules_;
  std::vector<Frame> stack_;
  // Directories on the current path. With symbolic links never followed only a bind mount can
  // bring a walk back to where it came from; this makes even that stop.
  std::set<Identity> ancestors_;
};

void TreeWalk::load_ignore_file(DIR* dir, const std::string& display, const char* name,
                                std::string_view base) {
  int error = 0;
  if (auto text = read_ignore_file(dir, name, error)) {
    rules_.add(*text, base);
  } else if (error == EFBIG) {
    problem(join(display, name), "ignore file larger than 16 MiB, not used");
  } else if (error != 0) {
    problem(join(display, name), describe_errno(error) + "; its patterns are not applied");
  }
}

bool TreeWalk::enter(std::string display, std::string relative, bool follow) {
  int error = 0;
  DirHandle dir = open_directory(display, follow, error);
  if (!dir) {
    problem(std::move(display),
            !follow && error == ELOOP ? "symbolic link, not followed" : describe_errno(error));
    return false;
  }
  struct stat st;
  if (::fstat(::dirfd(dir.get()), &st) != 0) {
    problem(std::move(display), describe_errno(errno));
    return false;
  }
  Identity identity{st.st_dev, st.st_ino};
  if (ancestors_.count(identity)) {
    problem(std::move(display), "directory loop (a bind mount?), not descended");
    return false;
  }

  Frame frame{std::move(display), std::move(relative), {}, 0, identity};
  if (!list_directory(dir.get(), frame.entries, error))
    problem(frame.display, describe_errno(error) + " while listing; scanning what was listed");
  if (options_.honour_ignore_files) {
    // Later files in one directory win: .git/info/exclude < .gitignore < .x420ignore.
    if (frame.relative.empty())
      load_ignore_file(dir.get(), frame.display, ".git/info/exclude", "");
    load_ignore_file(dir.get(), frame.display, ".gitignore", frame.relative);
    load_ignore_file(dir.get(), frame.display, ".x420ignore", frame.relative);
  }
  ancestors_.insert(identity);
  stack_.push_back(std::move(frame));
  return true;
}

void TreeWalk::run(const std::string& root) {
  if (!enter(root, "", /*follow=*/true)) return;
  for (const std::string& pattern : options_.ignore_patterns) rules_.add_pattern(pattern);

  while (!stack_.empty()) {
    Frame& top = stack_.back();
    if (top.next == top.entries.size()) {
      ancestors_.erase(top.identity);
      stack_.pop_back();
      continue;
    }
    // Copied out: entering a subdirectory below may grow the stack and move `top`.
    const DirEntry entry = top.entries[top.next++];
    std::string relative = join(top.relative, entry.name);
    std::string display = join(top.display, entry.name);
    switch (entry.kind) {
      case Kind::symlink:
        ++stats_.symlinks_skipped;
        break;
      case Kind::special:
        ++stats_.special_skipped;
        break;
      case Kind::unknown:
        if (entry.error != ENOENT) problem(std::move(display), describe_errno(entry.error));
        break;  // ENOENT: deleted since the listing
      case Kind::file:
        if (entry.name == ".git") break;  // a worktree's or submodule's pointer to its git dir
        if (rules_.ignored(relative, false)) {
          ++stats_.ignored;
          break;
        }
        ++stats_.files;
        on_file_({std::move(display), false});
        break;
      case Kind::directory:
        if (entry.name == ".git") break;
        if (rules_.ignored(relative, true)) {
          ++stats_.ignored;
          break;
        }
        enter(std::move(display), std::move(relative), /*follow=*/false);
        break;
    }
  }
}

}  // namespace

void walk(const std::vector<std::string>& roots, const WalkOptions& options,
          const std::function<void(const WalkEntry&)>& on_file,
          const std::function<void(const WalkProblem&)>& on_problem, WalkStats* stats) {
  WalkStats local;
  WalkStats& counts = stats ? *stats : local;
  for (const std::string& root : roots) {
    // A root is followed if it is a link: the user named it, as with `cat link` or ripgrep.
    struct stat st;
    if (::stat(root.c_str(), &st) != 0) {
      int error = errno;
      struct stat link;
      if (error == ENOENT && ::lstat(root.c_str(), &link) == 0 && S_ISLNK(link.st_mode))
        on_problem({root, "broken symbolic link"});
      else
        on_problem({root, describe_errno(error)});
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      ++counts.files;
      on_file({root, true});
    } else if (S_ISDIR(st.st_mode)) {
      // Each root has its own ignore rules: patterns are relative to the directory walked.
      TreeWalk(options, on_file, on_problem, counts).run(root);
    } else {
      on_problem({root, not_regular(st.st_mode)});
    }
  }
}

}  // namespace x420::cli
