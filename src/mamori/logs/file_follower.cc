#include "mamori/logs/file_follower.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace mamori::logs {
namespace {

constexpr uint32_t kHeadBytes = 512;
// Counting lines before a start-at-end offset is skipped past this size; the
// numbers are then unknown (0) rather than costing a long read.
constexpr uint64_t kMaxCountBytes = 1ull << 30;
constexpr size_t kMaxSiblings = 64;

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool IsCompressedName(std::string_view p) {
  for (std::string_view ext : {".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z"})
    if (p.size() >= ext.size() && p.substr(p.size() - ext.size()) == ext) return true;
  return false;
}

// Rotated names of `path`: FILE.1, FILE.0, FILE-20250101, ... (uncompressed).
std::vector<std::string> Siblings(const std::string& path) {
  std::vector<std::string> out;
  for (const char* sep : {".", "-", "_"}) {
    glob_t g{};
    std::string pattern = path + sep + "*";
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc && out.size() < kMaxSiblings; ++i)
        if (!IsCompressedName(g.gl_pathv[i])) out.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<uint64_t> HeadHash(int fd, uint32_t len) {
  std::string buf(len, '\0');
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, buf.data() + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    got += static_cast<size_t>(n);
  }
  return Fnv1a(buf);
}

// ---------------------------------------------------------------- store

// The whole schema of logpos.db, one step per version (sqlite::OpenVersioned):
// the followers' positions and the log check's templates and state. Releases
// before versioning created these tables without a user_version.
constexpr std::string_view kPositionMigrations[] = {
    "CREATE TABLE IF NOT EXISTS positions("
    "  owner TEXT NOT NULL, file TEXT NOT NULL, device INTEGER, inode INTEGER,"
    "  offset INTEGER, line INTEGER, head_len INTEGER, head_hash INTEGER,"
    "  skipping INTEGER, updated_ms INTEGER, PRIMARY KEY(owner, file));"
    "CREATE TABLE IF NOT EXISTS log_templates(owner TEXT NOT NULL, source TEXT NOT "
    "NULL, sample TEXT NOT NULL, first_ms INTEGER, last_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS log_templates_owner ON log_templates(owner, source);"
    "CREATE TABLE IF NOT EXISTS log_state(owner TEXT NOT NULL, key TEXT NOT NULL, "
    "value TEXT, PRIMARY KEY(owner, key));"
    "CREATE TABLE IF NOT EXISTS log_template_rates(owner TEXT NOT NULL, source TEXT NOT NULL, "
    "sample TEXT NOT NULL, lines REAL, seconds REAL, updated_ms INTEGER, "
    "PRIMARY KEY(owner, source, sample))",
};

Result<std::unique_ptr<PositionStore>> PositionStore::Open(const std::string& path) {
  sqlite::VersionedOptions vo;
  vo.settings = "PRAGMA synchronous=NORMAL";
  vo.unversioned_tables = {"positions", "log_templates", "log_state", "log_template_rates"};
  auto db = sqlite::OpenVersioned(path, kPositionMigrations, vo);
  if (!db.ok()) return db.error();
  return std::unique_ptr<PositionStore>(new PositionStore(std::move(db).value()));
}

Result<std::optional<FilePosition>> PositionStore::Load(std::string_view owner,
                                                        std::string_view file) {
  auto st = db_.Prepare(
      "SELECT device, inode, offset, line, head_len, head_hash, skipping FROM positions "
      "WHERE owner = ?1 AND file = ?2");
  if (!st.ok()) return st.error();
  st->Bind(1, owner).Bind(2, file);
  auto row = st->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<FilePosition>();
  FilePosition p;
  p.device = static_cast<uint64_t>(st->ColumnInt(0));
  p.inode = static_cast<uint64_t>(st->ColumnInt(1));
  p.offset = static_cast<uint64_t>(st->ColumnInt(2));
  p.line = static_cast<uint64_t>(st->ColumnInt(3));
  p.head_len = static_cast<uint32_t>(st->ColumnInt(4));
  p.head_hash = static_cast<uint64_t>(st->ColumnInt(5));
  p.skipping = st->ColumnInt(6) != 0;
  return std::optional<FilePosition>(p);
}

Status PositionStore::Save(std::string_view owner, std::string_view file, const FilePosition& p) {
  auto st = db_.Prepare(
      "INSERT INTO positions(owner, file, device, inode, offset, line, head_len, head_hash,"
      " skipping, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
      " CAST(strftime('%s','now') AS INTEGER) * 1000)"
      " ON CONFLICT(owner, file) DO UPDATE SET device = ?3, inode = ?4, offset = ?5,"
      " line = ?6, head_len = ?7, head_hash = ?8, skipping = ?9, updated_ms = excluded.updated_ms");
  if (!st.ok()) return st.error();
  st->Bind(1, owner)
      .Bind(2, file)
      .Bind(3, static_cast<int64_t>(p.device))
      .Bind(4, static_cast<int64_t>(p.inode))
      .Bind(5, static_cast<int64_t>(p.offset))
      .Bind(6, static_cast<int64_t>(p.line))
      .Bind(7, static_cast<int64_t>(p.head_len))
      .Bind(8, static_cast<int64_t>(p.head_hash))
      .Bind(9, p.skipping ? 1 : 0);
  return st->Run();
}

// ---------------------------------------------------------------- follower

struct FileFollower::Budget {
  uint64_t left;
};

FileFollower::FileFollower(std::string path, FollowerOptions options, PositionStore* store,
                           std::string owner)
    : path_(std::move(path)), options_(options), store_(store), owner_(std::move(owner)) {
  options_.max_line_bytes = std::max<size_t>(options_.max_line_bytes, 16);
  options_.block_bytes = std::max<size_t>(options_.block_bytes, 4096);
}

FileFollower::~FileFollower() { CloseFd(); }

void FileFollower::CloseFd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FileFollower::Emit(std::string_view text, bool truncated, std::string_view name,
                        const LineSink& sink, PollStats* stats) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  ++pos_.line;
  ++stats->lines;
  FollowedLine l;
  l.text = text;
  l.file = name;
  l.number = pos_.line;
  l.truncated = truncated;
  sink(l);
}

void FileFollower::Consume(std::string_view data, std::string_view name, const LineSink& sink,
                           PollStats* stats) {
  const size_t max = options_.max_line_bytes;
  size_t p = 0;
  while (p < data.size()) {
    const char* start = data.data() + p;
    const size_t rest = data.size() - p;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', rest));
    if (pos_.skipping) {
      if (!nl) {
        pos_.offset += rest;
        return;
      }
      size_t n = static_cast<size_t>(nl - start) + 1;
      pos_.offset += n;
      p += n;
      pos_.skipping = false;
      continue;
    }
    if (!nl) {
      if (carry_.size() + rest <= max) {
        carry_.append(start, rest);
        return;
      }
      // Overlong: deliver the first `max` bytes now, skip the rest of it.
      size_t take = max - carry_.size();
      carry_.append(start, take);
      Emit(carry_, true, name, sink, stats);
      pos_.offset += carry_.size() + (rest - take);
      carry_.clear();
      pos_.skipping = true;
      return;
    }
    size_t n = static_cast<size_t>(nl - start);
    if (carry_.empty()) {
      std::string_view line(start, n);
      bool cut = line.size() > max;
      Emit(cut ? line.substr(0, max) : line, cut, name, sink, stats);
      pos_.offset += n + 1;
    } else {
      size_t had = carry_.size();
      size_t take = std::min(n, max - had);
      carry_.append(start, take);
      Emit(carry_, had + n > max, name, sink, stats);
      pos_.offset += had + n + 1;
      carry_.clear();
    }
    p += n + 1;
  }
}

void FileFollower::FlushCarry(std::string_view name, const LineSink& sink, PollStats* stats) {
  if (!carry_.empty()) {
    Emit(carry_, false, name, sink, stats);
    pos_.offset += carry_.size();
    carry_.clear();
  }
  pos_.skipping = false;
}

Status FileFollower::ReadFd(int fd, std::string_view name, const LineSink& sink, PollStats* stats,
                            Budget* budget) {
  block_.resize(options_.block_bytes);
  for (;;) {
    if (budget->left == 0) {
      stats->more = true;
      return Status::Ok();
    }
    const uint64_t at = pos_.offset + carry_.size();
    size_t want = static_cast<size_t>(std::min<uint64_t>(block_.size(), budget->left));
    ssize_t n = ::pread(fd, block_.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(fmt::format("reading {}: {}", name, std::strerror(errno)));
    if (n == 0) return Status::Ok();
    budget->left -= static_cast<uint64_t>(n);
    stats->bytes += static_cast<uint64_t>(n);
    Consume(std::string_view(block_.data(), static_cast<size_t>(n)), name, sink, stats);
  }
}

void FileFollower::ResetTo(int fd, const struct stat& st, uint64_t offset) {
  pos_ = FilePosition{};
  pos_.device = static_cast<uint64_t>(st.st_dev);
  pos_.inode = static_cast<uint64_t>(st.st_ino);
  pos_.offset = offset;
  carry_.clear();
  UpdateHead(fd, static_cast<uint64_t>(st.st_size));
}

void FileFollower::UpdateHead(int fd, uint64_t size) {
  uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(size, kHeadBytes));
  if (len <= pos_.head_len) return;
  if (auto h = HeadHash(fd, len)) {
    pos_.head_len = len;
    pos_.head_hash = *h;
  }
}

bool FileFollower::DrainSibling(std::optional<uint64_t> inode, const LineSink& sink,
                                PollStats* stats, Budget* budget) {
  if (pos_.head_len == 0 && !inode) return false;
  for (const auto& s : Siblings(path_)) {
    int raw = ::open(s.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) continue;
    Fd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (inode && static_cast<uint64_t>(st.st_ino) != *inode) continue;
    if (static_cast<uint64_t>(st.st_size) < pos_.offset) continue;
    if (pos_.head_len > 0) {
      auto h = HeadHash(fd.get(), pos_.head_len);
      if (!h || *h != pos_.head_hash) continue;
    }
    (void)ReadFd(fd.get(), s, sink, stats, budget);
    FlushCarry(s, sink, stats);
    return true;
  }
  return false;
}

Result<bool> FileFollower::OpenCurrent(const LineSink& sink, PollStats* stats, Budget* budget) {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Error(fmt::format("cannot open {}: {}", path_, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Error(fmt::format("cannot stat {}: {}", path_, std::strerror(errno)));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const bool first = first_poll_;
  first_poll_ = false;
  if (saved_) {
    FilePosition saved = *saved_;
    saved_.reset();
    bool same = saved.device == static_cast<uint64_t>(st.st_dev) &&
                saved.inode == static_cast<uint64_t>(st.st_ino) && size >= saved.offset;
    if (same && saved.head_len > 0) {
      auto h = HeadHash(fd, saved.head_len);
      same = h && *h == saved.head_hash;
    }
    if (same) {
      fd_ = fd;
      pos_ = saved;
      carry_.clear();
      UpdateHead(fd_, size);
      return true;
    }
    // Rotated (or truncated) while nobody followed it: finish the old file
    // from its rotated name, then start the new one at its beginning.
    pos_ = saved;
    carry_.clear();
    if (!DrainSibling(pos_.inode, sink, stats, budget))
      DrainSibling(std::nullopt, sink, stats, budget);
    stats->rotated = true;
    fd_ = fd;
    ResetTo(fd_, st, 0);
    return true;
  }
  fd_ = fd;
  if (first && options_.start_at_end && size > 0) {
    // Start after the last complete line, so a line being written is not cut.
    uint64_t start = size;
    std::string tail(static_cast<size_t>(std::min<uint64_t>(size, 64 * 1024)), '\0');
    ssize_t n = ::pread(fd_, tail.data(), tail.size(), static_cast<off_t>(size - tail.size()));
    if (n == static_cast<ssize_t>(tail.size())) {
      size_t last = tail.rfind('\n');
      start = last == std::string::npos ? size - tail.size() : size - tail.size() + last + 1;
    }
    ResetTo(fd_, st, start);
    if (start <= kMaxCountBytes) {
      uint64_t lines = 0, at = 0;
      block_.resize(options_.block_bytes);
      while (at < start) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(block_.size(), start - at));
        ssize_t r = ::pread(fd_, block_.data(), want, static_cast<off_t>(at));
        if (r <= 0) break;
        lines += static_cast<uint64_t>(std::count(block_.data(), block_.data() + r, '\n'));
        at += static_cast<uint64_t>(r);
      }
      pos_.line = lines;
    }
    return true;
  }
  ResetTo(fd_, st, 0);
  return true;
}

Result<PollStats> FileFollower::Poll(const LineSink& sink) {
  PollStats stats;
  Budget budget{options_.max_bytes_per_poll};
  if (!loaded_ && store_) {
    auto p = store_->Load(owner_, path_);
    if (!p.ok()) return p.error().Wrap("loading the saved position of " + path_);
    saved_ = *p;
    if (saved_) first_poll_ = false;
  }
  loaded_ = true;

  Status read_status;
  if (fd_ < 0) {
    auto opened = OpenCurrent(sink, &stats, &budget);
    if (!opened.ok()) {
      first_poll_ = false;
      return opened.error();
    }
    if (!*opened) {
      first_poll_ = false;
      stats.missing = true;
      return stats;
    }
  } else {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) {
      const uint64_t size = static_cast<uint64_t>(st.st_size);
      bool replaced = size < pos_.offset + carry_.size() || size < pos_.head_len;
      if (!replaced && pos_.head_len > 0) {
        auto h = HeadHash(fd_, pos_.head_len);
        replaced = !h || *h != pos_.head_hash;
      }
      if (replaced) {
        // copytruncate: the lines written after our last read are in the copy.
        stats.truncated = true;
        DrainSibling(std::nullopt, sink, &stats, &budget);
        carry_.clear();
        ResetTo(fd_, st, 0);
      }
    }
  }

  read_status = ReadFd(fd_, path_, sink, &stats, &budget);
  struct stat fst {};
  if (read_status.ok() && !stats.more && ::fstat(fd_, &fst) == 0) {
    UpdateHead(fd_, static_cast<uint64_t>(fst.st_size));
    struct stat pst {};
    bool renamed =
        ::stat(path_.c_str(), &pst) != 0 || pst.st_ino != fst.st_ino || pst.st_dev != fst.st_dev;
    if (renamed) {
      // Rename rotation: finish the old file (a writer may have added lines
      // after our read), then open the new one at its beginning.
      read_status = ReadFd(fd_, path_, sink, &stats, &budget);
      if (read_status.ok() && !stats.more) {
        FlushCarry(path_, sink, &stats);
        CloseFd();
        stats.rotated = true;
        saved_.reset();
        first_poll_ = false;
        auto opened = OpenCurrent(sink, &stats, &budget);
        if (opened.ok() && *opened) read_status = ReadFd(fd_, path_, sink, &stats, &budget);
        if (!opened.ok()) read_status = opened.error();
      }
    }
  }
  if (store_ && pos_.inode != 0) {
    Status s = store_->Save(owner_, path_, pos_);
    if (!s.ok()) return s.error().Wrap("saving the position of " + path_);
  }
  if (!read_status.ok()) return read_status.error();
  return stats;
}

}  // namespace mamori::logs
