// ZstdSource: decompresses a Zstandard stream as a Source, frame after frame
// until the input ends, as `zstd -t` does. libzstd verifies each frame's
// content checksum when the frame carries one (zstd's default); frames
// without one are counted so the verdict can say the data was only
// structurally checked. Skippable frames are passed over.
//
// Windows up to 128 MiB are accepted (libzstd's default limit); a frame made
// with `--long=31` is reported as UNKNOWN rather than decoded with 2 GiB of
// memory. Failures end the stream with problem(); wording starts "zstd: ".
// Not thread-safe; borrows the input Reader.
#pragma once

#include <cstdint>
#include <vector>

#include "mamori/backup/stream.h"

namespace mamori::backup {

class ZstdSource : public Source {
 public:
  explicit ZstdSource(Reader& in);
  ~ZstdSource() override;
  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  Bytes Next() override;

  std::uint64_t frames() const { return frames_; }
  std::uint64_t frames_with_checksum() const { return frames_checksummed_; }
  std::uint64_t uncompressed_bytes() const { return total_out_; }
  const std::vector<Problem>& warnings() const { return warnings_; }

 private:
  void Fail(CheckStatus status, std::string message);
  bool StartFrame();

  Reader& in_;
  void* dctx_ = nullptr;  // ZSTD_DCtx*
  std::vector<std::uint8_t> out_;
  bool done_ = false;
  bool in_frame_ = false;
  std::uint64_t frames_ = 0;
  std::uint64_t frames_checksummed_ = 0;
  std::uint64_t frame_start_ = 0;
  std::uint64_t total_out_ = 0;
  std::vector<Problem> warnings_;
};

}  // namespace mamori::backup
