#include "mamori/backup/gzip_reader.h"

#include <zlib.h>

#include <memory>

#include <fmt/format.h>

namespace mamori::backup {
namespace {

constexpr std::uint8_t kFtext = 1, kFhcrc = 2, kFextra = 4, kFname = 8, kFcomment = 16;
// A file name or comment longer than this is not a real gzip header.
constexpr std::size_t kMaxHeaderString = 64 * 1024;

std::uint32_t Le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}

}  // namespace

void GzipSource::InflateEnd::operator()(z_stream_s* z) const {
  inflateEnd(z);
  delete z;
}

GzipSource::GzipSource(Reader& in) : in_(in) {
  // Value-initialised: zalloc, zfree and opaque are Z_NULL, as inflateInit2 expects.
  auto z = std::make_unique<z_stream>();
  // A stream whose init failed must not see inflateEnd, so it is owned by a
  // plain unique_ptr until then.
  if (inflateInit2(z.get(), -15) != Z_OK) {
    problem_ = Problem{CheckStatus::kUnknown, "gzip: zlib could not be initialised"};
    state_ = State::kDone;
    return;
  }
  z_.reset(z.release());
  out_.resize(kChunkSize);
}

GzipSource::~GzipSource() = default;

void GzipSource::Fail(std::string message) {
  problem_ = Problem{CheckStatus::kCritical, std::move(message)};
  state_ = State::kDone;
}

bool GzipSource::ReadHeader() {
  member_start_ = in_.position();
  Bytes h = in_.Peek(10);
  if (h.empty()) {
    // The end of input between members is the normal end.
    if (members_ == 0) Fail("gzip: empty input");
    state_ = State::kDone;
    return false;
  }
  if (h.size() < 2 || h[0] != 0x1f || h[1] != 0x8b) {
    if (members_ == 0) {
      Fail(fmt::format("gzip: not a gzip stream (first bytes: {})", HexBytes(h)));
      return false;
    }
    const std::uint64_t at = in_.position();
    bool zeros = true;
    std::uint64_t n = 0;
    for (Bytes a = in_.Available(); !a.empty(); a = in_.Available()) {
      for (auto b : a)
        if (b != 0) zeros = false;
      n += a.size();
      in_.Consume(a.size());
    }
    warnings_.push_back(
        {CheckStatus::kWarning,
         fmt::format("gzip: {} bytes of trailing {} after member {} at byte {} (ignored)", n,
                     zeros ? "zero padding" : "garbage", members_, at)});
    state_ = State::kDone;
    return false;
  }
  ++members_;
  if (h.size() < 10) {
    Fail(fmt::format("gzip: truncated header in member {} at byte {}", members_, member_start_));
    return false;
  }
  if (h[2] != 8) {
    Fail(fmt::format("gzip: member {} at byte {} uses unknown compression method {}", members_,
                     member_start_, h[2]));
    return false;
  }
  const std::uint8_t flags = h[3];
  if (flags & 0xe0) {
    Fail(fmt::format("gzip: member {} at byte {} has reserved header flags set (0x{:02x})",
                     members_, member_start_, flags));
    return false;
  }
  (void)kFtext;
  in_.Consume(10);
  auto truncated = [&] {
    Fail(fmt::format("gzip: truncated header in member {} at byte {}", members_, member_start_));
    return false;
  };
  if (flags & kFextra) {
    std::uint8_t len[2];
    if (!in_.Read(len, 2)) return truncated();
    const std::uint64_t xlen = len[0] | (len[1] << 8);
    if (in_.Skip(xlen) != xlen) return truncated();
  }
  for (std::uint8_t f : {kFname, kFcomment}) {
    if (!(flags & f)) continue;
    std::size_t n = 0;
    for (;;) {
      std::uint8_t c;
      if (!in_.ReadByte(&c)) return truncated();
      if (c == 0) break;
      if (++n > kMaxHeaderString) {
        Fail(fmt::format("gzip: header of member {} at byte {} has an unterminated {} field",
                         members_, member_start_, f == kFname ? "file name" : "comment"));
        return false;
      }
    }
  }
  if ((flags & kFhcrc) && in_.Skip(2) != 2) return truncated();
  inflateReset(z_.get());
  crc_ = crc32(0L, Z_NULL, 0);
  member_out_ = 0;
  state_ = State::kBody;
  return true;
}

void GzipSource::ReadTrailer() {
  const std::uint64_t at = in_.position();
  std::uint8_t t[8];
  if (!in_.Read(t, 8)) {
    Fail(fmt::format("gzip: member {} truncated in its trailer at byte {} (file cut short)",
                     members_, at));
    return;
  }
  const std::uint32_t stored_crc = Le32(t), stored_size = Le32(t + 4);
  if (stored_crc != crc_) {
    Fail(
        fmt::format("gzip: CRC mismatch in member {} at byte {} (stored 0x{:08x}, computed "
                    "0x{:08x})",
                    members_, at, stored_crc, crc_));
    return;
  }
  const auto computed_size = static_cast<std::uint32_t>(member_out_);
  if (stored_size != computed_size) {
    Fail(
        fmt::format("gzip: length mismatch in member {} at byte {} (stored {}, decompressed {} "
                    "mod 2^32)",
                    members_, at + 4, stored_size, computed_size));
    return;
  }
  state_ = State::kHeader;
}

Bytes GzipSource::Next() {
  while (state_ != State::kDone) {
    if (state_ == State::kHeader) {
      ReadHeader();
      continue;
    }
    if (state_ == State::kTrailer) {
      ReadTrailer();
      continue;
    }
    Bytes a = in_.Available();
    if (a.empty()) {
      Fail(
          fmt::format("gzip: unexpected end of file in member {} at byte {}: the compressed "
                      "data is truncated ({} bytes decompressed from it)",
                      members_, in_.position(), member_out_));
      break;
    }
    z_stream* z = z_.get();
    z->next_in = const_cast<Bytef*>(a.data());
    z->avail_in = static_cast<uInt>(a.size());
    z->next_out = out_.data();
    z->avail_out = static_cast<uInt>(out_.size());
    const int rc = inflate(z, Z_NO_FLUSH);
    const std::size_t used = a.size() - z->avail_in;
    const std::size_t produced = out_.size() - z->avail_out;
    in_.Consume(used);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      Fail(fmt::format("gzip: corrupt deflate data in member {} near byte {}: {}", members_,
                       in_.position(), z->msg ? z->msg : "invalid data"));
      break;
    }
    if (rc == Z_MEM_ERROR) {
      problem_ = Problem{CheckStatus::kUnknown, "gzip: out of memory while decompressing"};
      state_ = State::kDone;
      break;
    }
    if (produced > 0) {
      crc_ = crc32_z(crc_, out_.data(), produced);
      member_out_ += produced;
      total_out_ += produced;
    }
    if (rc == Z_STREAM_END) state_ = State::kTrailer;
    if (rc != Z_STREAM_END && used == 0 && produced == 0) {
      Fail(fmt::format("gzip: decoder stalled in member {} at byte {}", members_, in_.position()));
      break;
    }
    if (produced > 0) return Bytes(out_.data(), produced);
  }
  return {};
}

}  // namespace mamori::backup
