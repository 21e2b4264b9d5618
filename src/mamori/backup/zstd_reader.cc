#include "mamori/backup/zstd_reader.h"

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, ZSTD_frameHeader
#include <zstd.h>
#include <zstd_errors.h>

#include <fmt/format.h>

namespace mamori::backup {
namespace {

ZSTD_DCtx* D(void* p) { return static_cast<ZSTD_DCtx*>(p); }

std::uint32_t Le32(Bytes b) {
  return std::uint32_t(b[0]) | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 |
         std::uint32_t(b[3]) << 24;
}

bool IsZstdMagic(std::uint32_t m) {
  return m == ZSTD_MAGICNUMBER || (m & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

}  // namespace

ZstdSource::ZstdSource(Reader& in) : in_(in) {
  dctx_ = ZSTD_createDCtx();
  if (!dctx_) {
    problem_ = Problem{CheckStatus::kUnknown, "zstd: decoder could not be created"};
    done_ = true;
    return;
  }
  out_.resize(ZSTD_DStreamOutSize() > kChunkSize ? ZSTD_DStreamOutSize() : kChunkSize);
}

ZstdSource::~ZstdSource() { ZSTD_freeDCtx(D(dctx_)); }

void ZstdSource::Fail(CheckStatus status, std::string message) {
  problem_ = Problem{status, std::move(message)};
  done_ = true;
}

// At a frame boundary: decides whether another frame follows, and notes
// whether it carries a content checksum.
bool ZstdSource::StartFrame() {
  frame_start_ = in_.position();
  Bytes h = in_.Peek(ZSTD_FRAMEHEADERSIZE_MAX);
  if (h.empty()) {
    if (frames_ == 0) Fail(CheckStatus::kCritical, "zstd: empty input");
    done_ = true;
    return false;
  }
  if (h.size() < 4 || !IsZstdMagic(Le32(h))) {
    if (frames_ == 0) {
      Fail(CheckStatus::kCritical,
           fmt::format("zstd: not a zstd stream (first bytes: {})", HexBytes(h)));
      return false;
    }
    const std::uint64_t n = in_.Drain();
    warnings_.push_back({CheckStatus::kWarning,
                         fmt::format("zstd: {} bytes of trailing garbage after frame {} at byte {} "
                                     "(ignored)",
                                     n, frames_, frame_start_)});
    done_ = true;
    return false;
  }
  ++frames_;
  ZSTD_frameHeader fh{};
  if (ZSTD_getFrameHeader(&fh, h.data(), h.size()) == 0 && fh.frameType == ZSTD_frame &&
      fh.checksumFlag)
    ++frames_checksummed_;
  in_frame_ = true;
  return true;
}

Bytes ZstdSource::Next() {
  while (!done_) {
    if (!in_frame_ && !StartFrame()) break;
    Bytes a = in_.Available();
    ZSTD_inBuffer input{a.data(), a.size(), 0};
    ZSTD_outBuffer output{out_.data(), out_.size(), 0};
    if (a.empty()) {
      // Flush whatever the decoder still holds; if the frame is not complete
      // the input was cut short.
      const size_t rc = ZSTD_decompressStream(D(dctx_), &output, &input);
      if (!ZSTD_isError(rc) && output.pos > 0) {
        total_out_ += output.pos;
        return Bytes(out_.data(), output.pos);
      }
      Fail(CheckStatus::kCritical,
           fmt::format("zstd: unexpected end of file in frame {} at byte {}: the compressed data "
                       "is truncated",
                       frames_, in_.position()));
      break;
    }
    const size_t rc = ZSTD_decompressStream(D(dctx_), &output, &input);
    in_.Consume(input.pos);
    if (ZSTD_isError(rc)) {
      const auto code = ZSTD_getErrorCode(rc);
      if (code == ZSTD_error_checksum_wrong) {
        Fail(CheckStatus::kCritical,
             fmt::format("zstd: content checksum mismatch in frame {} (starting at byte {})",
                         frames_, frame_start_));
      } else if (code == ZSTD_error_frameParameter_windowTooLarge ||
                 code == ZSTD_error_memory_allocation) {
        Fail(CheckStatus::kUnknown,
             fmt::format("zstd: frame {} at byte {} needs more memory than allowed ({}); not "
                         "verified",
                         frames_, frame_start_, ZSTD_getErrorName(rc)));
      } else {
        Fail(CheckStatus::kCritical, fmt::format("zstd: corrupt data in frame {} near byte {}: {}",
                                                 frames_, in_.position(), ZSTD_getErrorName(rc)));
      }
      break;
    }
    if (rc == 0) {
      in_frame_ = false;  // frame complete and flushed
      ZSTD_DCtx_reset(D(dctx_), ZSTD_reset_session_only);
    }
    if (output.pos > 0) {
      total_out_ += output.pos;
      return Bytes(out_.data(), output.pos);
    }
    if (input.pos == 0 && rc != 0) {
      Fail(CheckStatus::kCritical,
           fmt::format("zstd: decoder stalled in frame {} at byte {}", frames_, in_.position()));
      break;
    }
  }
  return {};
}

}  // namespace mamori::backup
