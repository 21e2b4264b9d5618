// Streaming building blocks for backup verification: a pull-model byte
// Source (a file, or a decoder wrapping another source), a Reader that gives
// format parsers peek/read/skip on top of any Source without ever holding
// more than one chunk plus a small stitch buffer, and Findings, the verdict
// being built up while a stream is judged.
//
// Layering: FileSource -> Reader -> GzipSource/ZstdSource -> Reader -> format
// verifier. Every layer reads in large chunks (1 MiB), so memory is bounded by
// the chain depth, not by the artifact size.
//
// Ownership: a Source returns views into its own buffer, valid until its next
// Next() call; a Reader borrows its Source. Not thread-safe; one chain per
// artifact. Failures (I/O errors, corrupt compressed data) are recorded in
// Source::problem() and end the stream; they never throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mamori/core/status.h"

namespace mamori::backup {

using Bytes = std::span<const std::uint8_t>;

// 1 MiB: large enough that syscall and per-chunk overhead vanish next to
// decoding, small enough to stay in L2/L3 between layers.
inline constexpr std::size_t kChunkSize = 1 << 20;

struct Problem {
  CheckStatus status = CheckStatus::kCritical;
  std::string message;
};

// The verdict under construction: the worst status seen, the problems in the
// order found, and format facts for --json.
struct Findings {
  CheckStatus status = CheckStatus::kOk;
  std::vector<Problem> problems;
  nlohmann::json details = nlohmann::json::object();

  void Add(CheckStatus s, std::string message);
  void Add(const Problem& p) { Add(p.status, p.message); }
  bool ok() const { return problems.empty(); }
  // The messages of the worst status, joined with "; " (at most three).
  std::string WorstMessages() const;
};

class Source {
 public:
  virtual ~Source() = default;
  // The next bytes of the stream (never empty until the end), valid until
  // the next call. Empty at the end of the stream or after a failure.
  virtual Bytes Next() = 0;
  // Set once the stream failed; the failure is the end of the stream.
  const std::optional<Problem>& problem() const { return problem_; }

 protected:
  std::optional<Problem> problem_;
};

// A file read sequentially in kChunkSize blocks (posix_fadvise SEQUENTIAL),
// optionally hashing every byte with SHA-256 as it goes by.
class FileSource : public Source {
 public:
  // Opens `path`; on failure problem() is set (UNKNOWN: we could not read,
  // which says nothing about the backup itself) and the stream is empty.
  FileSource(const std::string& path, bool sha256);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Bytes Next() override;
  std::uint64_t bytes_read() const { return bytes_read_; }
  // Called after every block read with bytes_read() (for progress).
  void set_on_read(std::function<void(std::uint64_t)> f) { on_read_ = std::move(f); }
  // Lower-case hex SHA-256 of all bytes read; call after the end was reached.
  std::optional<std::string> Sha256Hex();

 private:
  int fd_ = -1;
  std::string path_;
  std::vector<std::uint8_t> buf_;
  std::uint64_t bytes_read_ = 0;
  void* sha_ = nullptr;  // EVP_MD_CTX*
  std::function<void(std::uint64_t)> on_read_;
};

// A fixed buffer as a Source, in pieces of at most `piece` bytes (tests use
// small pieces to exercise every boundary).
class MemorySource : public Source {
 public:
  explicit MemorySource(Bytes data, std::size_t piece = kChunkSize) : data_(data), piece_(piece) {}
  Bytes Next() override;

 private:
  Bytes data_;
  std::size_t piece_;
};

// Peek/read/skip over a Source. Peek(n) stitches across chunk boundaries
// into a small buffer; bulk consumers use Available()/Consume() and never
// copy.
class Reader {
 public:
  explicit Reader(Source& source) : source_(source) {}
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Whatever is buffered, fetching the next chunk when nothing is; empty
  // only at the end of the stream.
  Bytes Available();
  void Consume(std::size_t n);
  // Up to n contiguous bytes without consuming them (fewer only at the end).
  Bytes Peek(std::size_t n);
  // Reads exactly n bytes; false (with what was read consumed) at the end.
  bool Read(void* out, std::size_t n);
  bool ReadByte(std::uint8_t* out) { return Read(out, 1); }
  // Skips n bytes; returns how many were skipped (fewer only at the end).
  std::uint64_t Skip(std::uint64_t n);
  // Consumes everything left; returns how many bytes that was.
  std::uint64_t Drain();
  bool AtEnd() { return Available().empty(); }
  // Bytes consumed so far: the offset of the next byte.
  std::uint64_t position() const { return position_; }
  Source& source() { return source_; }

 private:
  Source& source_;
  Bytes chunk_;
  std::vector<std::uint8_t> stash_;
  std::size_t stash_pos_ = 0;
  std::uint64_t position_ = 0;
};

// Keeps the first `head` and the last `tail` bytes of a stream fed to it in
// pieces, for scanners that judge a dump by its header and trailer only.
class HeadTail {
 public:
  HeadTail(std::size_t head, std::size_t tail) : head_max_(head), tail_max_(tail) {}
  void Feed(Bytes b);
  std::string_view head() const { return head_; }
  std::string_view tail() const { return tail_; }
  std::uint64_t total() const { return total_; }

 private:
  std::size_t head_max_, tail_max_;
  std::string head_, tail_;
  std::uint64_t total_ = 0;
};

// Helpers for messages.
// "1f 8b 08 00": the first `n` bytes in hex.
std::string HexBytes(Bytes b, std::size_t n = 16);
// The text printable and on one line, cut at `max` characters with "...".
std::string Excerpt(std::string_view text, std::size_t max = 120);

}  // namespace mamori::backup
