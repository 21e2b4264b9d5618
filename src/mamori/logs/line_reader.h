// Reading log files line by line with bounded memory, whatever the input.
//
// LineSplitter turns a stream of byte chunks into lines (push model, for
// followers that read appended data as it arrives). LineReader reads a plain
// or gzip-compressed file (zlib, detected by its magic bytes, concatenated
// members included) in large blocks and yields its lines (pull model).
//
// A line is the bytes up to '\n' (a trailing '\r' is dropped). A line longer
// than max_line_bytes is cut to that length and flagged `truncated`; the rest
// up to the next '\n' is skipped, so a 1 GB line costs max_line_bytes of
// memory. Bytes are passed through unchanged: a line that is not valid UTF-8
// (binary garbage, Latin-1) is flagged `invalid_utf8`, never rejected. Memory
// is one block plus one max-length line.
//
// Neither class is thread-safe; each is owned by one reader. A read error is
// reported by LineReader::status() after Next() returns false.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mamori/util/result.h"

namespace mamori::logs {

struct LineReaderOptions {
  size_t max_line_bytes = 64 * 1024;
  size_t block_bytes = 1 << 20;
  bool check_utf8 = true;  // false leaves invalid_utf8 unset (faster)
};

struct Line {
  std::string_view text;  // valid until the next call on the reader/splitter
  uint64_t number = 0;    // 1-based line number in the stream
  bool truncated = false;
  bool invalid_utf8 = false;
};

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

class LineSplitter {
 public:
  explicit LineSplitter(LineReaderOptions options = {});

  // Hands the splitter the next chunk; it is only referenced (not copied)
  // until NextLine() returns false, so keep it alive until then.
  void Feed(std::string_view chunk);
  // The next complete line of the fed data, or false when the rest is an
  // unterminated partial line (kept, bounded, for the next Feed).
  bool NextLine(Line* line);
  // At end of input: the final unterminated line, if any.
  bool Finish(Line* line);

  uint64_t lines() const { return number_; }
  uint64_t truncated_lines() const { return truncated_; }
  uint64_t invalid_utf8_lines() const { return invalid_utf8_; }

 private:
  bool Emit(std::string_view text, bool truncated, Line* line);

  LineReaderOptions options_;
  std::string_view chunk_;
  size_t pos_ = 0;
  std::string carry_;             // partial line from earlier chunks (<= max)
  std::string emitted_;           // the last line assembled from carry_
  bool carry_truncated_ = false;  // skipping the rest of an overlong line
  uint64_t number_ = 0;
  uint64_t truncated_ = 0;
  uint64_t invalid_utf8_ = 0;
};

class LineReader {
 public:
  // Opens `path` ("-" is standard input). gzip is detected from the content.
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path,
                                                  LineReaderOptions options = {});
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, or false at end of file or on error (see status()).
  bool Next(Line* line);
  // Ok, or the read/decompression error that ended reading.
  const Status& status() const { return status_; }

  const std::string& path() const { return path_; }
  bool compressed() const { return gzip_ != nullptr; }
  uint64_t lines() const { return splitter_.lines(); }
  uint64_t truncated_lines() const { return splitter_.truncated_lines(); }
  uint64_t invalid_utf8_lines() const { return splitter_.invalid_utf8_lines(); }
  // Bytes read from the file so far (compressed bytes for gzip).
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  struct Gzip;
  LineReader(std::string path, int fd, LineReaderOptions options);
  // Reads and (if needed) inflates the next block into block_; false at EOF
  // or on error.
  bool Fill();
  // Reads up to block_bytes of the file into `buf`; -1 (status_ set) on error.
  ssize_t ReadBlock(std::string* buf);

  std::string path_;
  int fd_ = -1;
  LineReaderOptions options_;
  LineSplitter splitter_;
  std::string block_;
  std::string raw_;  // compressed input for gzip
  std::unique_ptr<Gzip> gzip_;
  bool eof_ = false;
  bool started_ = false;
  uint64_t bytes_read_ = 0;
  Status status_;
};

}  // namespace mamori::logs
