#include "mamori/backup/pgdump.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>

#include "mamori/backup/gzip_reader.h"
#include "mamori/backup/pgdump_internal.h"
#include "mamori/backup/zstd_reader.h"
#include "mamori/util/units.h"

namespace mamori::backup {
using pgdump_internal::FirstWord;
using pgdump_internal::Plural;
namespace {

constexpr int Vers(int a, int b, int c) { return (a * 256 + b) * 256 + c; }
constexpr int kVers10 = Vers(1, 0, 0);
constexpr int kVersMax = Vers(1, 16, 0);  // PostgreSQL 17
constexpr std::uint8_t kBlkData = 1, kBlkBlobs = 3;
// A string longer than this in a TOC is corruption, not SQL.
constexpr std::int64_t kMaxString = std::int64_t{1} << 30;
// Only short fields are kept; the rest (definitions) are skipped.
constexpr std::size_t kKeepString = 4096;

// Primitive reads in pg_dump's archive encoding. The first failure is kept
// in `problem` and every later read fails too.
class ArchiveIn {
 public:
  ArchiveIn(Reader& in, std::string kind) : in_(in), kind_(std::move(kind)) {}

  void SetSizes(int version, int int_size, int off_size) {
    version_ = version;
    int_size_ = int_size;
    off_size_ = off_size;
  }
  void SetContext(std::string context) { context_ = std::move(context); }
  std::optional<Problem>& problem() { return problem_; }
  Reader& reader() { return in_; }

  bool Byte(std::uint8_t* b) {
    if (problem_) return false;
    if (!in_.ReadByte(b)) return Truncated();
    return true;
  }

  bool Int(std::int64_t* v) {
    if (problem_) return false;
    std::uint8_t sign = 0;
    if (version_ > kVers10 && !Byte(&sign)) return false;
    std::uint64_t r = 0;
    for (int i = 0; i < int_size_; ++i) {
      std::uint8_t b;
      if (!Byte(&b)) return false;
      if (i >= 4) {  // higher bytes must be zero (and shifting by 64+ is undefined)
        if (b != 0) return Corrupt("integer out of range");
        continue;
      }
      r |= std::uint64_t(b) << (8 * i);
    }
    *v = sign ? -static_cast<std::int64_t>(r) : static_cast<std::int64_t>(r);
    return true;
  }

  // Reads a string; `null` (optional) tells a NULL string apart from "".
  bool Str(std::string* out, bool* null = nullptr) {
    std::int64_t len;
    if (!Int(&len)) return false;
    if (null) *null = len < 0;
    if (out) out->clear();
    if (len < 0) return true;
    if (len > kMaxString) return Corrupt(fmt::format("implausible string length {}", len));
    const auto keep = static_cast<std::size_t>(std::min<std::int64_t>(len, kKeepString));
    if (out && keep > 0) {
      out->resize(keep);
      if (!in_.Read(out->data(), keep)) return Truncated();
      if (in_.Skip(static_cast<std::uint64_t>(len) - keep) !=
          static_cast<std::uint64_t>(len) - keep)
        return Truncated();
    } else if (in_.Skip(static_cast<std::uint64_t>(len)) != static_cast<std::uint64_t>(len)) {
      return Truncated();
    }
    return true;
  }

  bool Offset(int* state, std::uint64_t* pos) {
    *pos = 0;
    if (version_ < Vers(1, 7, 0)) {
      std::int64_t i;
      if (!Int(&i)) return false;
      *state = i < 0 ? kOffsetPosNotSet : i == 0 ? kOffsetNoData : kOffsetPosSet;
      if (i > 0) *pos = static_cast<std::uint64_t>(i);
      return true;
    }
    std::uint8_t flag;
    if (!Byte(&flag)) return false;
    if (flag != kOffsetPosNotSet && flag != kOffsetPosSet && flag != kOffsetNoData)
      return Corrupt(fmt::format("unexpected data offset flag {}", flag));
    *state = flag;
    for (int i = 0; i < off_size_; ++i) {
      std::uint8_t b;
      if (!Byte(&b)) return false;
      if (i >= 8) {
        if (b != 0) return Corrupt("file offset too large");
      } else {
        *pos |= std::uint64_t(b) << (8 * i);
      }
    }
    return true;
  }

  bool Truncated() {
    if (!problem_)
      problem_ = Problem{CheckStatus::kCritical, fmt::format("{} truncated {}: cut off at byte {}",
                                                             kind_, context_, in_.position())};
    return false;
  }
  bool Corrupt(const std::string& what) {
    if (!problem_)
      problem_ = Problem{CheckStatus::kCritical, fmt::format("{} corrupt {}: {} at byte {}", kind_,
                                                             context_, what, in_.position())};
    return false;
  }

 private:
  Reader& in_;
  std::string kind_;
  std::string context_ = "in its header";
  int version_ = kVers10 + 1;
  int int_size_ = 4;
  int off_size_ = 8;
  std::optional<Problem> problem_;
};

bool ReadHeaderImpl(ArchiveIn& a, PgdmpHeader* h) {
  Reader& in = a.reader();
  char magic[5];
  if (!in.Read(magic, 5)) return a.Truncated();
  if (std::string_view(magic, 5) != "PGDMP") return a.Corrupt("no PGDMP magic");
  std::uint8_t b;
  if (!a.Byte(&b)) return false;
  h->vmaj = b;
  if (!a.Byte(&b)) return false;
  h->vmin = b;
  if (h->vmaj > 1 || (h->vmaj == 1 && h->vmin > 0)) {
    if (!a.Byte(&b)) return false;
    h->vrev = b;
  }
  const int version = h->VersionCode();
  if (version < kVers10 || version > kVersMax)
    return a.Corrupt(fmt::format("unsupported archive version {}", h->Version()));
  if (!a.Byte(&b)) return false;
  h->int_size = b;
  if (h->int_size < 1 || h->int_size > 32)
    return a.Corrupt(fmt::format("implausible integer size {}", h->int_size));
  h->off_size = h->int_size;
  if (version >= Vers(1, 7, 0)) {
    if (!a.Byte(&b)) return false;
    h->off_size = b;
    if (h->off_size < 1 || h->off_size > 32)
      return a.Corrupt(fmt::format("implausible offset size {}", h->off_size));
  }
  a.SetSizes(version, h->int_size, h->off_size);
  if (!a.Byte(&b)) return false;
  h->format = b;
  if (b != 1 && b != 3 && b != 4 && b != 5)
    return a.Corrupt(fmt::format("unknown archive format {}", int(b)));
  h->compression = PgCompression::kNone;
  if (version >= Vers(1, 15, 0)) {
    if (!a.Byte(&b)) return false;
    h->compression = b == 0   ? PgCompression::kNone
                     : b == 1 ? PgCompression::kGzip
                     : b == 2 ? PgCompression::kLz4
                     : b == 3 ? PgCompression::kZstd
                              : PgCompression::kUnknown;
  } else if (version >= Vers(1, 2, 0)) {
    std::int64_t level;
    if (version < Vers(1, 4, 0)) {
      if (!a.Byte(&b)) return false;
      level = b;
    } else if (!a.Int(&level)) {
      return false;
    }
    h->compression_level = static_cast<int>(std::clamp<std::int64_t>(level, -1, 9));
    h->compression = level != 0 ? PgCompression::kGzip : PgCompression::kNone;
  } else {
    h->compression = PgCompression::kGzip;
  }
  if (version >= Vers(1, 4, 0)) {
    std::int64_t t[7];  // sec, min, hour, mday, mon, year-1900, isdst
    for (auto& v : t)
      if (!a.Int(&v)) return false;
    h->dump_time = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t[5] + 1900, t[4] + 1, t[3],
                               t[2], t[1], t[0]);
    if (!a.Str(&h->database)) return false;
  }
  if (version >= Vers(1, 10, 0)) {
    if (!a.Str(&h->server_version) || !a.Str(&h->pg_dump_version)) return false;
  }
  return true;
}

// The zlib or zstd stream of one data block (or one large object), fed the
// chunks as they come; the output is counted and dropped.
class BlockDecoder {
 public:
  explicit BlockDecoder(PgCompression c) : c_(c) {
    if (c_ == PgCompression::kGzip) {
      z_ = std::make_unique<z_stream>();
      *z_ = z_stream{};
      ok_ = inflateInit(z_.get()) == Z_OK;
    } else if (c_ == PgCompression::kZstd) {
      d_ = ZSTD_createDCtx();
      ok_ = d_ != nullptr;
    }
    if (c_ == PgCompression::kGzip || c_ == PgCompression::kZstd) out_.resize(256 * 1024);
  }
  ~BlockDecoder() {
    if (z_) inflateEnd(z_.get());
    ZSTD_freeDCtx(d_);
  }
  bool decodes() const { return c_ == PgCompression::kGzip || c_ == PgCompression::kZstd; }

  // Returns an error text, or "" when fine.
  std::string Feed(Bytes b) {
    if (!ok_) return "decoder could not be initialised";
    if (c_ == PgCompression::kNone) {
      out_bytes_ += b.size();
      return "";
    }
    if (c_ == PgCompression::kGzip) {
      z_->next_in = const_cast<Bytef*>(b.data());
      z_->avail_in = static_cast<uInt>(b.size());
      while (z_->avail_in > 0) {
        if (ended_) return "data after the end of the compressed stream";
        z_->next_out = out_.data();
        z_->avail_out = static_cast<uInt>(out_.size());
        const int rc = inflate(z_.get(), Z_NO_FLUSH);
        out_bytes_ += out_.size() - z_->avail_out;
        if (rc == Z_STREAM_END)
          ended_ = true;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
          return std::string("zlib: ") + (z_->msg ? z_->msg : "invalid data");
      }
      return "";
    }
    if (c_ == PgCompression::kZstd) {
      ZSTD_inBuffer in{b.data(), b.size(), 0};
      while (in.pos < in.size) {
        ZSTD_outBuffer out{out_.data(), out_.size(), 0};
        const size_t rc = ZSTD_decompressStream(d_, &out, &in);
        if (ZSTD_isError(rc)) return std::string("zstd: ") + ZSTD_getErrorName(rc);
        out_bytes_ += out.pos;
        zstd_pending_ = rc != 0;
      }
      return "";
    }
    return "";  // lz4 and unknown: structure only
  }

  // "" when the compressed stream ended properly.
  std::string Finish() {
    if (c_ == PgCompression::kGzip && !ended_) {
      // Flush: the stream may complete without more input.
      for (int i = 0; i < 1000 && !ended_; ++i) {
        z_->next_in = nullptr;
        z_->avail_in = 0;
        z_->next_out = out_.data();
        z_->avail_out = static_cast<uInt>(out_.size());
        const int rc = inflate(z_.get(), Z_FINISH);
        out_bytes_ += out_.size() - z_->avail_out;
        if (rc == Z_STREAM_END)
          ended_ = true;
        else if (z_->avail_out != 0)
          break;
      }
      if (!ended_) return "its zlib stream ends early";
    }
    if (c_ == PgCompression::kZstd) {
      for (int i = 0; i < 1000 && zstd_pending_; ++i) {
        ZSTD_inBuffer in{nullptr, 0, 0};
        ZSTD_outBuffer out{out_.data(), out_.size(), 0};
        const size_t rc = ZSTD_decompressStream(d_, &out, &in);
        if (ZSTD_isError(rc)) return std::string("zstd: ") + ZSTD_getErrorName(rc);
        out_bytes_ += out.pos;
        zstd_pending_ = rc != 0;
        if (out.pos == 0) break;
      }
      if (zstd_pending_) return "its zstd frame ends early";
    }
    return "";
  }
  std::uint64_t out_bytes() const { return out_bytes_; }

 private:
  PgCompression c_;
  std::unique_ptr<z_stream> z_;
  ZSTD_DCtx* d_ = nullptr;
  bool ok_ = true;
  bool ended_ = false;
  bool zstd_pending_ = false;
  std::vector<std::uint8_t> out_;
  std::uint64_t out_bytes_ = 0;
};

}  // namespace

std::string PgdmpHeader::Version() const { return fmt::format("{}.{}.{}", vmaj, vmin, vrev); }

std::string PgTocEntry::Describe() const {
  std::string what = desc;
  if (!ns.empty()) what += " " + ns;
  if (!tag.empty()) what += " " + tag;
  return fmt::format("TOC entry {} ({})", dump_id, Excerpt(what, 100));
}

std::string_view FormatName(int format) {
  switch (format) {
    case 1:
      return "custom";
    case 3:
      return "tar";
    case 4:
      return "null";
    case 5:
      return "directory";
  }
  return "unknown";
}

std::string_view CompressionName(PgCompression c) {
  switch (c) {
    case PgCompression::kNone:
      return "none";
    case PgCompression::kGzip:
      return "gzip";
    case PgCompression::kLz4:
      return "lz4";
    case PgCompression::kZstd:
      return "zstd";
    case PgCompression::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<Problem> ReadPgdmpHeader(Reader& in, PgdmpHeader* out) {
  ArchiveIn a(in, "pg_dump archive");
  a.SetContext("in its header");
  if (!ReadHeaderImpl(a, out)) return a.problem();
  return std::nullopt;
}

std::optional<Problem> ReadPgdmpToc(Reader& in, PgdmpArchive* out, std::uint64_t max_entries) {
  ArchiveIn a(in, "pg_dump archive");
  a.SetContext("in its header");
  if (!ReadHeaderImpl(a, &out->header)) return a.problem();
  const PgdmpHeader& h = out->header;
  const int version = h.VersionCode();
  a.SetContext("in its table of contents");
  std::int64_t count;
  if (!a.Int(&count)) return a.problem();
  if (count < 0 || static_cast<std::uint64_t>(count) > max_entries) {
    a.Corrupt(fmt::format("implausible TOC entry count {}", count));
    return a.problem();
  }
  out->toc.clear();
  out->toc.reserve(static_cast<std::size_t>(std::min<std::int64_t>(count, 100000)));
  for (std::int64_t i = 0; i < count; ++i) {
    a.SetContext(fmt::format("in its table of contents (entry {} of {})", i + 1, count));
    PgTocEntry te;
    std::int64_t v;
    if (!a.Int(&v)) return a.problem();
    if (v <= 0 || v > INT32_MAX) {
      a.Corrupt(fmt::format("TOC entry id {} out of range", v));
      return a.problem();
    }
    te.dump_id = static_cast<int>(v);
    if (!a.Int(&v)) return a.problem();
    te.had_dumper = v != 0;
    if (version >= Vers(1, 8, 0) && !a.Str(nullptr)) return a.problem();  // tableoid
    if (!a.Str(nullptr)) return a.problem();                              // oid
    if (!a.Str(&te.tag) || !a.Str(&te.desc)) return a.problem();
    if (version >= Vers(1, 11, 0) && !a.Int(&v)) return a.problem();      // section
    if (!a.Str(nullptr) || !a.Str(nullptr)) return a.problem();           // defn, dropStmt
    if (version >= Vers(1, 3, 0) && !a.Str(nullptr)) return a.problem();  // copyStmt
    if (version >= Vers(1, 6, 0) && !a.Str(&te.ns)) return a.problem();
    if (version >= Vers(1, 10, 0) && !a.Str(nullptr)) return a.problem();  // tablespace
    if (version >= Vers(1, 14, 0) && !a.Str(nullptr)) return a.problem();  // tableam
    if (version >= Vers(1, 16, 0) && !a.Int(&v)) return a.problem();       // relkind
    if (!a.Str(nullptr)) return a.problem();                               // owner
    if (version >= Vers(1, 9, 0) && !a.Str(nullptr)) return a.problem();   // with oids
    if (version >= Vers(1, 5, 0)) {
      // Dependencies: strings up to a NULL one.
      for (std::uint64_t d = 0;; ++d) {
        bool null = false;
        if (!a.Str(nullptr, &null)) return a.problem();
        if (null) break;
        if (d > max_entries) {
          a.Corrupt("endless dependency list");
          return a.problem();
        }
      }
    }
    if (h.format == static_cast<int>(PgArchiveFormat::kCustom)) {
      if (!a.Offset(&te.data_state, &te.data_pos)) return a.problem();
      if (version < Vers(1, 7, 0) && !a.Int(&v)) return a.problem();
    } else if (h.format == static_cast<int>(PgArchiveFormat::kDirectory) ||
               h.format == static_cast<int>(PgArchiveFormat::kTar)) {
      if (!a.Str(&te.filename)) return a.problem();
    }
    out->toc.push_back(std::move(te));
  }
  out->toc_end = in.position();
  return std::nullopt;
}

void VerifyCustomData(Reader& in, const PgdmpArchive& archive, Findings* findings) {
  const PgdmpHeader& h = archive.header;
  ArchiveIn a(in, "pg_dump custom archive");
  a.SetSizes(h.VersionCode(), h.int_size, h.off_size);

  std::unordered_map<int, std::size_t> by_id;
  bool any_pos_set = false;
  for (std::size_t i = 0; i < archive.toc.size(); ++i) {
    by_id.emplace(archive.toc[i].dump_id, i);
    any_pos_set |= archive.toc[i].data_state == kOffsetPosSet;
  }
  // Which entries must have a data block: with offsets written (a seekable
  // output file) exactly those with an offset; from a pipe, every entry that
  // had data when the TOC was written.
  auto expects_data = [&](const PgTocEntry& te) {
    return any_pos_set ? te.data_state == kOffsetPosSet : te.data_state == kOffsetPosNotSet;
  };
  std::vector<bool> seen(archive.toc.size(), false);
  std::uint64_t blocks = 0, stored = 0, decoded = 0;

  auto truncated_in = [&](const PgTocEntry& te, std::uint64_t needed) {
    const std::uint64_t end = in.position() + in.Drain();
    findings->Add(CheckStatus::kCritical,
                  fmt::format("pg_dump custom archive truncated: data block for {} needs bytes "
                              "up to {} but the archive ends at byte {}",
                              te.Describe(), needed, end));
  };

  for (;;) {
    const std::uint64_t block_start = in.position();
    std::uint8_t type;
    if (!in.ReadByte(&type)) break;  // the end of the stream: all blocks read
    if (type != kBlkData && type != kBlkBlobs) {
      findings->Add(CheckStatus::kCritical,
                    fmt::format("pg_dump custom archive corrupt: byte 0x{:02x} at byte {} where a "
                                "data block should start",
                                type, block_start));
      in.Drain();
      return;
    }
    a.SetContext(fmt::format("in the data block header at byte {}", block_start));
    std::int64_t id;
    if (!a.Int(&id)) {
      findings->Add(*a.problem());
      return;
    }
    auto it = id > 0 && id <= INT32_MAX ? by_id.find(static_cast<int>(id)) : by_id.end();
    if (it == by_id.end()) {
      findings->Add(CheckStatus::kCritical,
                    fmt::format("pg_dump custom archive corrupt: data block at byte {} belongs to "
                                "TOC entry {}, which the table of contents does not have",
                                block_start, id));
      in.Drain();
      return;
    }
    const PgTocEntry& te = archive.toc[it->second];
    if (seen[it->second]) {
      findings->Add(CheckStatus::kCritical,
                    fmt::format("pg_dump custom archive corrupt: second data block for {} at "
                                "byte {}",
                                te.Describe(), block_start));
      in.Drain();
      return;
    }
    seen[it->second] = true;
    ++blocks;
    if (te.data_state == kOffsetPosSet && te.data_pos != block_start) {
      findings->Add(CheckStatus::kCritical,
                    fmt::format("pg_dump custom archive corrupt: the table of contents puts the "
                                "data of {} at byte {}, but it is at byte {}",
                                te.Describe(), te.data_pos, block_start));
    }
    // One compressed stream per data block, or per large object.
    auto read_stream = [&]() -> bool {
      BlockDecoder dec(h.compression);
      for (;;) {
        const std::uint64_t at = in.position();
        std::int64_t len;
        a.SetContext(fmt::format("in the data of {}", te.Describe()));
        if (!a.Int(&len)) {
          if (in.AtEnd())
            truncated_in(te, at + 1 + static_cast<std::uint64_t>(h.int_size));
          else
            findings->Add(*a.problem());
          return false;
        }
        if (len == 0) break;
        if (len < 0) {
          findings->Add(CheckStatus::kCritical,
                        fmt::format("pg_dump custom archive corrupt: negative chunk length {} "
                                    "in the data of {} at byte {}",
                                    len, te.Describe(), at));
          in.Drain();
          return false;
        }
        const std::uint64_t need = static_cast<std::uint64_t>(len);
        const std::uint64_t end = in.position() + need;
        std::uint64_t done = 0;
        while (done < need) {
          Bytes av = in.Available();
          if (av.empty()) {
            truncated_in(te, end);
            return false;
          }
          const auto take =
              static_cast<std::size_t>(std::min<std::uint64_t>(need - done, av.size()));
          if (std::string err = dec.Feed(av.first(take)); !err.empty()) {
            findings->Add(CheckStatus::kCritical,
                          fmt::format("pg_dump custom archive corrupt: the data of {} does not "
                                      "decompress ({}) near byte {}",
                                      te.Describe(), err, in.position()));
            in.Drain();
            return false;
          }
          in.Consume(take);
          done += take;
        }
        stored += need;
      }
      if (std::string err = dec.Finish(); !err.empty()) {
        findings->Add(CheckStatus::kCritical,
                      fmt::format("pg_dump custom archive corrupt: the data of {} is incomplete: "
                                  "{} (at byte {})",
                                  te.Describe(), err, in.position()));
        in.Drain();
        return false;
      }
      decoded += dec.out_bytes();
      return true;
    };
    if (type == kBlkData) {
      if (!read_stream()) return;
    } else {
      for (std::uint64_t n = 0;; ++n) {
        std::int64_t oid;
        a.SetContext(fmt::format("in the large objects of {}", te.Describe()));
        if (!a.Int(&oid)) {
          if (in.AtEnd())
            truncated_in(te, in.position() + 1);
          else
            findings->Add(*a.problem());
          return;
        }
        if (oid == 0) break;
        if (!read_stream()) return;
      }
    }
  }

  std::uint64_t missing = 0;
  const PgTocEntry* first_missing = nullptr;
  std::uint64_t expected = 0;
  for (std::size_t i = 0; i < archive.toc.size(); ++i) {
    if (!expects_data(archive.toc[i])) continue;
    ++expected;
    if (!seen[i]) {
      ++missing;
      if (!first_missing) first_missing = &archive.toc[i];
    }
  }
  findings->details["data_blocks"] = blocks;
  findings->details["data_stored_bytes"] = stored;
  if (h.compression == PgCompression::kGzip || h.compression == PgCompression::kZstd ||
      h.compression == PgCompression::kNone)
    findings->details["data_bytes"] = decoded;
  else
    findings->details["data_decoded"] = false;
  if (missing > 0) {
    findings->Add(CheckStatus::kCritical,
                  fmt::format("pg_dump custom archive truncated: no data for {} of {} TOC entries "
                              "that have data, first {}; the archive ends at byte {}",
                              missing, expected, first_missing->Describe(), in.position()));
  }
}

void RecordPgdmpHeader(const PgdmpHeader& h, std::string_view format_name,
                       const VerifyOptions& options, Findings* findings,
                       std::optional<PgVersions>* pg) {
  if (h.vmaj > 0) {
    auto& d = findings->details;
    d["archive_version"] = h.Version();
    d["archive_format"] = format_name;
    d["compression"] = CompressionName(h.compression);
    if (!h.dump_time.empty()) d["dump_time"] = h.dump_time;
    if (!h.database.empty()) d["database"] = h.database;
    if (!h.server_version.empty()) d["server_version"] = h.server_version;
    if (!h.pg_dump_version.empty()) d["pg_dump_version"] = h.pg_dump_version;
  }
  if (!h.server_version.empty() || !h.pg_dump_version.empty()) {
    *pg = MakePgVersions(h.server_version, h.pg_dump_version);
    CheckPgSkew(**pg, options, findings);
  }
}

std::string VerifyPgdmpStream(Reader& in, const VerifyOptions& options, Findings* findings,
                              std::optional<PgVersions>* pg) {
  PgdmpArchive ar;
  auto problem = ReadPgdmpToc(in, &ar, options.max_toc_entries);
  const PgdmpHeader& h = ar.header;
  RecordPgdmpHeader(h, FormatName(h.format), options, findings, pg);
  if (h.vmaj > 0) {
    findings->details["int_size"] = h.int_size;
    findings->details["offset_size"] = h.off_size;
  }
  if (problem) {
    // The archive kind is known once the header parsed; say so.
    std::string msg = problem->message;
    if (h.format == 1 && msg.rfind("pg_dump archive", 0) == 0)
      msg.replace(0, 15, "pg_dump custom archive");
    findings->Add(problem->status, msg);
    in.Drain();
    return "";
  }
  findings->details["toc_entries"] = ar.toc.size();
  if (h.format != static_cast<int>(PgArchiveFormat::kCustom)) {
    findings->Add(CheckStatus::kWarning,
                  fmt::format("this is the toc.dat of a pg_dump {} archive; verify the whole "
                              "archive (its directory) instead",
                              FormatName(h.format)));
    in.Drain();
    return "";
  }
  VerifyCustomData(in, ar, findings);
  std::string summary = fmt::format(
      "pg_dump custom archive, {}, {}, database {}, server {}, pg_dump {}",
      Plural(ar.toc.size(), "TOC entry", "TOC entries"),
      Plural(findings->details.value("data_blocks", std::uint64_t{0}), "data block", "data blocks"),
      h.database.empty() ? "?" : h.database, FirstWord(h.server_version),
      FirstWord(h.pg_dump_version));
  if (!h.dump_time.empty()) summary += ", dumped " + h.dump_time;
  return summary;
}

}  // namespace mamori::backup
