// FileFollower: follows one log file by inode and offset, like `tail -F`, but
// without losing or repeating lines across rotation and restarts.
//
// Each Poll() reads what was appended since the last one (in blocks, at most
// max_bytes_per_poll) and hands complete lines to a sink. It copes with:
//  - rotation by rename (logrotate's default): the old file is read to its
//    end (a final unterminated line included) before the new one is opened
//    and read from its start;
//  - copytruncate: the file shrinks below the offset (or its first bytes
//    change); what was written between the last read and the copy is read
//    from the copy (a sibling such as FILE.1 with the same first bytes), then
//    the file is read again from offset 0;
//  - files that appear later (read from their start) and files that vanish;
//  - a restart: the position (device, inode, offset, line number and a hash
//    of the first bytes, to notice a file replaced under the same inode) is
//    kept in PositionStore (<data_dir>/logpos.db). If the file was rotated
//    while nobody was following it, the rest of the old file is read from its
//    rotated name first.
// Lines are bounded: a line longer than max_line_bytes is cut, flagged
// `truncated`, and the rest of it skipped. Delivery is at least once: the
// position is saved after the sink has seen the lines, so a crash between the
// two repeats at most one poll's lines; a clean restart repeats none.
//
// Not thread-safe: one follower is used by one thread at a time. A
// PositionStore is one SQLite connection, likewise used by one thread at a
// time (several stores may share the file). Failures (permission denied, a
// broken database) are returned as errors; the follower stays usable.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mamori/store/sqlite.h"
#include "mamori/util/result.h"

namespace mamori::logs {

struct FilePosition {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t offset = 0;     // bytes consumed (end of the last delivered or skipped line)
  uint64_t line = 0;       // lines delivered before `offset` (0 = unknown when started at end)
  uint32_t head_len = 0;   // how many leading bytes head_hash covers
  uint64_t head_hash = 0;  // FNV-1a of those bytes
  bool skipping = false;   // inside the unread rest of an overlong line
};

// Positions (and other per-follower state) in one SQLite file.
class PositionStore {
 public:
  // Creates the file and its tables if needed: the positions and the log
  // check's templates and state (the whole schema of logpos.db, versioned).
  static Result<std::unique_ptr<PositionStore>> Open(const std::string& path);

  Result<std::optional<FilePosition>> Load(std::string_view owner, std::string_view file);
  Status Save(std::string_view owner, std::string_view file, const FilePosition& pos);
  // For callers that keep more state next to the positions (templates).
  sqlite::Db& db() { return db_; }

 private:
  explicit PositionStore(sqlite::Db db) : db_(std::move(db)) {}
  sqlite::Db db_;
};

struct FollowerOptions {
  size_t max_line_bytes = 64 * 1024;
  size_t block_bytes = 256 * 1024;
  uint64_t max_bytes_per_poll = 64ull << 20;
  // A file present at the first poll, with no saved position, is read from
  // its end (only new lines count). Files that appear later, and new files
  // after a rotation, are always read from their start.
  bool start_at_end = false;
};

struct FollowedLine {
  std::string_view text;  // without '\n' (and a trailing '\r'); valid during the call
  std::string_view file;  // the file it was read from (a rotated name when draining one)
  uint64_t number = 0;    // 1-based line number in that file; 0 when unknown
  bool truncated = false;
};
using LineSink = std::function<void(const FollowedLine&)>;

struct PollStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  bool missing = false;    // the file does not exist (yet)
  bool rotated = false;    // a rename rotation was followed
  bool truncated = false;  // a copytruncate (or replacement) was noticed
  bool more = false;       // max_bytes_per_poll was reached; poll again
};

class FileFollower {
 public:
  // `store` may be null (no persistence); `owner` namespaces the saved
  // position (e.g. the check's name) so two users of one file do not clash.
  FileFollower(std::string path, FollowerOptions options = {}, PositionStore* store = nullptr,
               std::string owner = "");
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  Result<PollStats> Poll(const LineSink& sink);

  const std::string& path() const { return path_; }
  const FilePosition& position() const { return pos_; }

 private:
  struct Budget;
  // Opens path_ if it exists, deciding where to start; false if missing.
  Result<bool> OpenCurrent(const LineSink& sink, PollStats* stats, Budget* budget);
  // Reads fd from the current read offset to EOF (or the budget).
  Status ReadFd(int fd, std::string_view name, const LineSink& sink, PollStats* stats,
                Budget* budget);
  void Consume(std::string_view data, std::string_view name, const LineSink& sink,
               PollStats* stats);
  void Emit(std::string_view text, bool truncated, std::string_view name, const LineSink& sink,
            PollStats* stats);
  // The unterminated rest of a finished file becomes its last line.
  void FlushCarry(std::string_view name, const LineSink& sink, PollStats* stats);
  // Reads [pos_.offset, end) of a rotated sibling whose first bytes (and,
  // when `inode` is set, inode) match; true if one was found.
  bool DrainSibling(std::optional<uint64_t> inode, const LineSink& sink, PollStats* stats,
                    Budget* budget);
  void ResetTo(int fd, const struct stat& st, uint64_t offset);
  void UpdateHead(int fd, uint64_t size);
  void CloseFd();

  std::string path_;
  FollowerOptions options_;
  PositionStore* store_;
  std::string owner_;
  int fd_ = -1;
  FilePosition pos_;
  std::string carry_;  // bytes of an incomplete line after pos_.offset
  bool loaded_ = false;
  std::optional<FilePosition> saved_;
  bool first_poll_ = true;
  std::string block_;
};

// FNV-1a 64 of the first `len` bytes of `fd` (pread); nullopt on a short read.
std::optional<uint64_t> HeadHash(int fd, uint32_t len);

}  // namespace mamori::logs
