// GzipSource: decompresses a gzip stream (RFC 1952) as a Source, checking
// every member: header fields, the deflate data, and the trailer's CRC-32 and
// ISIZE against what was actually decompressed. Members follow each other
// until the input ends (as `gzip -t` does); bytes after the last member that
// are not a gzip header are reported as trailing garbage (a WARNING, as gzip
// itself treats them).
//
// Uses zlib's raw inflate so the trailer can be compared in the open and a
// mismatch reported with both values. Output comes in kChunkSize pieces.
// Failures (corrupt data, truncation, CRC mismatch) end the stream with a
// CRITICAL problem(); the verdict's wording starts with "gzip: ".
// Not thread-safe; borrows the input Reader.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mamori/backup/stream.h"

struct z_stream_s;  // zlib's z_stream, kept out of this header

namespace mamori::backup {

class GzipSource : public Source {
 public:
  explicit GzipSource(Reader& in);
  ~GzipSource() override;
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Bytes Next() override;

  // After the end: members seen, bytes in and out, trailing garbage.
  std::uint64_t members() const { return members_; }
  std::uint64_t uncompressed_bytes() const { return total_out_; }
  // Non-fatal findings (trailing garbage).
  const std::vector<Problem>& warnings() const { return warnings_; }
  bool finished() const { return state_ == State::kDone; }

 private:
  enum class State { kHeader, kBody, kTrailer, kDone };
  bool ReadHeader();
  void ReadTrailer();
  void Fail(std::string message);

  // Ends zlib's inflate state, then frees the stream.
  struct InflateEnd {
    void operator()(z_stream_s* z) const;
  };

  Reader& in_;
  std::unique_ptr<z_stream_s, InflateEnd> z_;  // null when zlib could not be initialised
  State state_ = State::kHeader;
  std::vector<std::uint8_t> out_;
  std::uint64_t members_ = 0;  // members started
  std::uint64_t member_start_ = 0;
  std::uint32_t crc_ = 0;
  std::uint64_t member_out_ = 0;
  std::uint64_t total_out_ = 0;
  std::vector<Problem> warnings_;
};

}  // namespace mamori::backup
