#include "mamori/backup/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>

#include <fmt/format.h>

#include "mamori/backup/pgdump.h"
#include "mamori/util/units.h"

namespace mamori::backup {
namespace {

// Follows the tar block structure of the bytes handed to libarchive, only
// to learn whether an end-of-archive (all-zero) header block was seen.
class BlockTracker {
 public:
  void Feed(Bytes b) {
    while (!b.empty() && !end_seen_) {
      if (skip_ > 0) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, b.size()));
        skip_ -= n;
        b = b.subspan(n);
        continue;
      }
      const std::size_t n = std::min<std::size_t>(512 - fill_, b.size());
      std::memcpy(block_ + fill_, b.data(), n);
      fill_ += n;
      b = b.subspan(n);
      if (fill_ < 512) break;
      fill_ = 0;
      bool zero = true;
      for (auto c : block_)
        if (c != 0) {
          zero = false;
          break;
        }
      if (zero) {
        end_seen_ = true;
        break;
      }
      skip_ = (EntrySize() + 511) / 512 * 512;
    }
  }
  bool end_seen() const { return end_seen_; }

 private:
  // The size field: octal, or base-256 when the high bit is set (GNU/star).
  std::uint64_t EntrySize() const {
    const unsigned char* f = block_ + 124;
    std::uint64_t v = 0;
    if (f[0] & 0x80) {
      for (int i = 1; i < 12; ++i) v = (v << 8) | f[i];
      return v;
    }
    for (int i = 0; i < 12; ++i) {
      if (f[i] >= '0' && f[i] <= '7')
        v = v * 8 + (f[i] - '0');
      else if (v > 0 || (f[i] != ' ' && f[i] != 0))
        break;
    }
    return v;
  }

  unsigned char block_[512];
  std::size_t fill_ = 0;
  std::uint64_t skip_ = 0;
  bool end_seen_ = false;
};

struct Feed {
  Reader* in;
  BlockTracker tracker;
};

la_ssize_t ReadCallback(struct archive*, void* client, const void** buf) {
  auto* f = static_cast<Feed*>(client);
  Bytes b = f->in->Available();
  f->in->Consume(b.size());
  f->tracker.Feed(b);
  *buf = b.data();
  return static_cast<la_ssize_t>(b.size());
}

// One entry's data as a Source, for reading toc.dat inside the tar.
class EntrySource : public Source {
 public:
  explicit EntrySource(struct archive* a) : a_(a), buf_(64 * 1024) {}
  Bytes Next() override {
    la_ssize_t n = archive_read_data(a_, buf_.data(), buf_.size());
    if (n <= 0) return {};
    return Bytes(buf_.data(), static_cast<std::size_t>(n));
  }

 private:
  struct archive* a_;
  std::vector<std::uint8_t> buf_;
};

std::string FirstWord(const std::string& s) { return s.substr(0, s.find(' ')); }

}  // namespace

std::string VerifyTarStream(Reader& in, const VerifyOptions& options, Findings* findings,
                            std::optional<PgVersions>* pg, bool* is_pg_dump) {
  *is_pg_dump = false;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  Feed feed{&in, {}};
  if (archive_read_open(a, &feed, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    findings->Add(CheckStatus::kCritical,
                  fmt::format("tar: cannot read the archive: {}", archive_error_string(a)));
    archive_read_free(a);
    in.Drain();
    return "";
  }
  std::uint64_t entries = 0, total = 0;
  std::string error;
  PgdmpArchive pg_archive;
  for (;;) {
    struct archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_WARN) {
      findings->Add(CheckStatus::kWarning,
                    fmt::format("tar: entry {}: {}", entries + 1, archive_error_string(a)));
    } else if (rc != ARCHIVE_OK) {
      error = fmt::format("tar: bad header after {} entries at byte {}: {}", entries,
                          archive_filter_bytes(a, -1), archive_error_string(a));
      break;
    }
    if (++entries > options.max_archive_entries) {
      error = fmt::format("tar: more than {} entries; giving up", options.max_archive_entries);
      break;
    }
    const std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (archive_entry_size_is_set(e)) total += static_cast<std::uint64_t>(archive_entry_size(e));
    if (entries == 1 && name == "toc.dat") {
      EntrySource es(a);
      Reader er(es);
      if (er.Peek(5).size() == 5 && std::memcmp(er.Peek(5).data(), "PGDMP", 5) == 0) {
        *is_pg_dump = true;
        auto p = ReadPgdmpToc(er, &pg_archive, options.max_toc_entries);
        er.Drain();
        const auto& h = pg_archive.header;
        if (!h.server_version.empty() || !h.pg_dump_version.empty()) {
          *pg = MakePgVersions(h.server_version, h.pg_dump_version);
          CheckPgSkew(**pg, options, findings);
        }
        if (!h.database.empty()) findings->details["database"] = h.database;
        if (!h.dump_time.empty()) findings->details["dump_time"] = h.dump_time;
        if (!h.server_version.empty()) findings->details["server_version"] = h.server_version;
        if (!h.pg_dump_version.empty()) findings->details["pg_dump_version"] = h.pg_dump_version;
        if (p)
          findings->Add(p->status, "toc.dat: " + p->message);
        else
          findings->details["toc_entries"] = pg_archive.toc.size();
      } else {
        er.Drain();
      }
    }
    rc = archive_read_data_skip(a);
    if (rc != ARCHIVE_OK) {
      error = fmt::format("tar: entry {} ({}) is cut short: {}", entries, Excerpt(name, 100),
                          archive_error_string(a) ? archive_error_string(a) : "truncated");
      break;
    }
  }
  const std::uint64_t end = archive_filter_bytes(a, -1);
  archive_read_free(a);
  // Whatever libarchive did not ask for still counts as read.
  feed.tracker.Feed({});
  in.Drain();
  findings->details["entries"] = entries;
  findings->details["content_bytes"] = total;
  if (!error.empty()) {
    findings->Add(CheckStatus::kCritical, error);
    return "";
  }
  if (!feed.tracker.end_seen()) {
    findings->Add(CheckStatus::kCritical,
                  fmt::format("tar: end-of-archive marker missing after {} entries (the archive "
                              "stops at byte {}: cut short at an entry boundary)",
                              entries, end));
    return "";
  }
  if (entries == 0) {
    findings->Add(CheckStatus::kWarning, "tar: archive has no entries");
    return "";
  }
  if (*is_pg_dump)
    return fmt::format(
        "pg_dump tar archive, {} TOC entries, {} tar entries, {}, database {}, server {}, "
        "pg_dump {}",
        pg_archive.toc.size(), entries, FormatBytes(total), pg_archive.header.database,
        FirstWord(pg_archive.header.server_version), FirstWord(pg_archive.header.pg_dump_version));
  return fmt::format("tar archive, {} entries, {} of content", entries, FormatBytes(total));
}

}  // namespace mamori::backup
