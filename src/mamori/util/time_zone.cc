#include "mamori/util/time_zone.h"

// The only file that includes ptz.h: it defines a non-inline function.
#include <date/ptz.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <optional>

namespace mamori::util {

struct TimeZone::Rule {
  Posix::time_zone zone;
};

namespace {

constexpr size_t kHeaderBytes = 44;
// More would not be a zone file of this world (the largest has 236).
constexpr uint32_t kMaxTransitions = 10000;
constexpr uint32_t kMaxTypes = 256;

// A period that holds `t`, with an offset within a day of UTC.
bool Holds(const TimeZone::Period& p, int64_t t) {
  return p.begin <= t && t < p.end && p.offset > -86400 && p.offset < 86400;
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(size_t n) const { return bytes_.size() - pos_ >= n; }
  size_t pos() const { return pos_; }
  void Skip(size_t n) { pos_ += n; }
  std::string_view Take(size_t n) {
    auto s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint8_t U8() { return static_cast<uint8_t>(bytes_[pos_++]); }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | U8();
    return v;
  }
  int64_t I32() { return static_cast<int32_t>(U32()); }
  int64_t I64() {
    uint64_t hi = U32();
    return static_cast<int64_t>((hi << 32) | U32());
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

struct Header {
  char version = 0;
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

std::optional<Header> ReadHeader(Reader& r) {
  if (!r.Has(kHeaderBytes) || r.Take(4) != "TZif") return std::nullopt;
  Header h;
  h.version = static_cast<char>(r.U8());
  r.Skip(15);
  h.isutcnt = r.U32();
  h.isstdcnt = r.U32();
  h.leapcnt = r.U32();
  h.timecnt = r.U32();
  h.typecnt = r.U32();
  h.charcnt = r.U32();
  return h;
}

size_t DataBytes(const Header& h, size_t time_bytes) {
  return h.timecnt * (time_bytes + 1) + h.typecnt * 6 + h.charcnt + h.leapcnt * (time_bytes + 4) +
         h.isstdcnt + h.isutcnt;
}

struct Table {
  std::vector<int64_t> times;
  std::vector<uint8_t> type_of;
  std::vector<int32_t> type_offsets;
};

Result<Table> ReadData(Reader& r, const Header& h, size_t time_bytes) {
  Error damaged("not a valid zone file");
  if (h.typecnt == 0 || h.typecnt > kMaxTypes || h.timecnt > kMaxTransitions || h.charcnt > 4096 ||
      h.leapcnt > 1000 || (h.isutcnt != 0 && h.isutcnt != h.typecnt) ||
      (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) || !r.Has(DataBytes(h, time_bytes)))
    return damaged;
  if (h.leapcnt != 0)
    return Error("counts leap seconds (a right/ zone); use the zone without right/");
  Table t;
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    t.times.push_back(time_bytes == 8 ? r.I64() : r.I32());
    if (i > 0 && t.times[i] <= t.times[i - 1]) return damaged;
  }
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    t.type_of.push_back(r.U8());
    if (t.type_of.back() >= h.typecnt) return damaged;
  }
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    const int64_t offset = r.I32();
    r.Skip(2);  // isdst, abbreviation index: not needed for offsets
    // RFC 8536: -2^31 is not a valid offset; real ones stay within a day.
    if (offset <= -86400 || offset >= 86400) return damaged;
    t.type_offsets.push_back(static_cast<int32_t>(offset));
  }
  r.Skip(h.charcnt + h.isstdcnt + h.isutcnt);
  return t;
}

// The text between the two newlines after the version 2+ data block.
std::optional<std::string> ReadFooter(Reader& r, std::string_view bytes) {
  if (!r.Has(1) || r.U8() != '\n') return std::nullopt;
  const size_t start = r.pos();
  const size_t end = bytes.find('\n', start);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(bytes.substr(start, end - start));
}

Result<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error("cannot open");
  std::string bytes(TimeZone::kMaxFileBytes + 1, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > TimeZone::kMaxFileBytes) return Error("larger than any zone file");
  bytes.resize(got);
  return bytes;
}

bool PlausibleName(std::string_view name) {
  if (name.empty() || name.size() > TimeZone::kMaxNameLength || name.front() == '/' ||
      name.find("//") != std::string_view::npos)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+';
  });
}

}  // namespace

TimeZone::TimeZone(TimeZone&&) noexcept = default;
TimeZone& TimeZone::operator=(TimeZone&&) noexcept = default;
TimeZone::~TimeZone() = default;

std::string TimeZone::DefaultDirectory() {
  const char* dir = std::getenv("TZDIR");
  if (dir != nullptr && dir[0] == '/') return dir;
  return "/usr/share/zoneinfo";
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(std::string_view name,
                                                       const std::string& directory) {
  if (!PlausibleName(name)) return Error("not a time zone name");
  if (::access(directory.c_str(), R_OK | X_OK) != 0)
    return Error("time zone database not available (no " + directory +
                 "); install the tzdata package or use UTC");
  auto bytes = ReadFile(directory + "/" + std::string(name));
  if (!bytes.ok()) return Error("no such time zone in " + directory);
  auto zone = FromTzif(*bytes, std::string(name));
  if (!zone.ok()) return zone.error().Wrap(directory + "/" + std::string(name));
  return std::make_shared<const TimeZone>(std::move(zone).value());
}

Result<TimeZone> TimeZone::FromTzif(std::string_view bytes, std::string name) {
  Reader r(bytes);
  auto h = ReadHeader(r);
  if (!h) return Error("not a zone file");
  size_t time_bytes = 4;
  if (h->version >= '2') {
    // Version 2+ repeats the data with 64-bit times: skip the first block.
    if (!r.Has(DataBytes(*h, 4))) return Error("not a valid zone file");
    r.Skip(DataBytes(*h, 4));
    h = ReadHeader(r);
    if (!h) return Error("not a valid zone file");
    time_bytes = 8;
  }
  auto table = ReadData(r, *h, time_bytes);
  if (!table.ok()) return table.error();
  TimeZone z;
  z.name_ = std::move(name);
  // RFC 8536: times before the first transition use the first type.
  z.first_offset_ = table->type_offsets[0];
  int32_t current = z.first_offset_;
  for (size_t i = 0; i < table->times.size(); ++i) {
    const int32_t next = table->type_offsets[table->type_of[i]];
    if (next == current) continue;  // an abbreviation or isdst change only
    z.starts_.push_back(table->times[i]);
    z.offsets_.push_back(next);
    current = next;
  }
  if (time_bytes == 8) {
    if (auto footer = ReadFooter(r, bytes); footer && !footer->empty()) {
      // ptz.h reports a rule it cannot read by an exception; such a zone
      // keeps its last offset, as date-tz did for every zone.
      try {
        z.rule_ = std::make_unique<Rule>(Rule{Posix::time_zone(*footer)});
      } catch (const std::exception&) {
        z.rule_.reset();
      }
      if (z.rule_ && !z.RuleIsSane()) z.rule_.reset();
    }
  }
  return z;
}

TimeZone::Period TimeZone::RulePeriodAt(int64_t utc_seconds) const {
  const auto info = rule_->zone.get_info(date::sys_seconds{std::chrono::seconds{utc_seconds}});
  // Clamped so that a wild offset stays wild in 32 bits (RuleIsSane).
  const int64_t offset = std::clamp<int64_t>(info.offset.count(), -86400, 86400);
  return {info.begin.time_since_epoch().count(), info.end.time_since_epoch().count(),
          static_cast<int32_t>(offset)};
}

// ptz.h reads offsets of any size; a rule whose offsets are more than a day
// from UTC, or whose periods do not hold the instant asked about, is not one
// of this world's.
bool TimeZone::RuleIsSane() const {
  const int64_t from = starts_.empty() ? 0 : starts_.back();
  for (int64_t t = from; t < from + 2 * 366 * 86400; t += 30 * 86400) {
    if (!Holds(RulePeriodAt(t), t)) return false;
  }
  return true;
}

TimeZone::Period TimeZone::PeriodAt(int64_t utc_seconds) const {
  const auto after = std::upper_bound(starts_.begin(), starts_.end(), utc_seconds);
  if (after == starts_.begin()) {
    if (starts_.empty() && rule_) {
      const Period p = RulePeriodAt(utc_seconds);
      if (Holds(p, utc_seconds)) return p;
    }
    return {-kUnbounded, starts_.empty() ? kUnbounded : starts_.front(), first_offset_};
  }
  const size_t i = static_cast<size_t>(after - starts_.begin()) - 1;
  if (after != starts_.end()) return {starts_[i], *after, offsets_[i]};
  if (!rule_) return {starts_[i], kUnbounded, offsets_[i]};
  // Past the table: the rule's period, cut at the last transition (the
  // rule agrees with the table's last offset there, RFC 8536 section 3.3).
  // A rule that answers nonsense somewhere (ptz.h accepts a month 0) gives
  // way to the table's last offset there.
  Period p = RulePeriodAt(utc_seconds);
  p.begin = std::max(p.begin, starts_[i]);
  if (!Holds(p, utc_seconds)) return {starts_[i], kUnbounded, offsets_[i]};
  return p;
}

Result<std::shared_ptr<const TimeZone>> FindTimeZone(std::string_view name,
                                                     const std::string& directory) {
  if (name.empty() || name == "UTC") return std::shared_ptr<const TimeZone>();
  const bool quotable =
      name.size() <= TimeZone::kMaxNameLength &&
      std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  const std::string shown = quotable ? "'" + std::string(name) + "'"
                                     : "(name with " + std::to_string(name.size()) + " bytes)";
  if (!PlausibleName(name))
    return Error("unknown time zone " + shown +
                 "; use an IANA name like 'Europe/Berlin', 'America/New_York' or 'UTC'");
  auto zone = TimeZone::Load(name, directory);
  if (zone.ok()) return zone;
  const std::string& why = zone.error().message();
  if (why.find("tzdata") != std::string::npos) return zone.error();
  const bool absent = why.rfind("no such time zone", 0) == 0;
  return Error("unknown time zone " + shown + (absent ? "" : " (" + why + ")") +
               "; use an IANA name like 'Europe/Berlin', 'America/New_York' or 'UTC'");
}

}  // namespace mamori::util
