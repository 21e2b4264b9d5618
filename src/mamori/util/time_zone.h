// TimeZone: one zone of the IANA time zone database, read from the system's
// compiled zone files (TZif, RFC 8536) under $TZDIR or /usr/share/zoneinfo,
// as glibc and cronie read them. It answers one question: which UTC offset
// is in force at an instant, and from when to when.
//
// Instants past the file's last transition (2037 in Debian's files) follow
// the POSIX rule at the file's end ("CET-1CEST,M3.5.0,M10.5.0/3"), read by
// Howard Hinnant's date/ptz.h, so daylight saving time goes on after 2037.
//
// Hand-written because the one packaged reader (date-tz) is a shared C++
// library: it alone kept the daemon from linking libstdc++ statically, which
// costs 1.5 MiB of resident memory (docs/ARCHITECTURE.md, "Footprint").
//
// A TimeZone is immutable once loaded; share it freely between threads.
// Load() reports every problem (a name that is not a zone, a missing
// database, a damaged file) as an Error; PeriodAt() never fails.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/util/result.h"

namespace mamori::util {

class TimeZone {
 public:
  // Zone files larger than this are refused unread (the largest in tzdata
  // 2025b is 3.6 KiB).
  static constexpr size_t kMaxFileBytes = 256 * 1024;
  static constexpr size_t kMaxNameLength = 64;
  static constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

  // A stretch of time with one offset: UTC seconds [begin, end). begin is
  // -kUnbounded before the first transition, end kUnbounded after the last.
  struct Period {
    int64_t begin;
    int64_t end;
    int32_t offset;  // seconds east of UTC
  };

  // The directory zone files are read from: $TZDIR when it is an absolute
  // path, /usr/share/zoneinfo otherwise.
  static std::string DefaultDirectory();

  // Loads the zone `name` ("Europe/Berlin") from `directory`. Names are
  // IANA names: letters, digits and / _ - + only, so nothing outside the
  // directory can be named.
  [[nodiscard]] static Result<std::shared_ptr<const TimeZone>> Load(
      std::string_view name, const std::string& directory = DefaultDirectory());

  // Reads the contents of a zone file.
  [[nodiscard]] static Result<TimeZone> FromTzif(std::string_view bytes, std::string name);

  TimeZone(TimeZone&&) noexcept;
  TimeZone& operator=(TimeZone&&) noexcept;
  ~TimeZone();

  Period PeriodAt(int64_t utc_seconds) const;
  int32_t OffsetAt(int64_t utc_seconds) const { return PeriodAt(utc_seconds).offset; }
  const std::string& name() const { return name_; }

 private:
  struct Rule;  // the POSIX rule after the last transition
  TimeZone() = default;
  Period RulePeriodAt(int64_t utc_seconds) const;
  bool RuleIsSane() const;

  std::string name_;
  // starts_[i] is the first instant of offsets_[i]; adjacent offsets differ.
  std::vector<int64_t> starts_;
  std::vector<int32_t> offsets_;
  int32_t first_offset_ = 0;    // before starts_[0]
  std::unique_ptr<Rule> rule_;  // null: the last offset stays
};

// The zone a user named in a configuration: null for "UTC" or "" (no file
// needed), the loaded zone otherwise. Errors say what to write instead:
// "unknown time zone 'Europe/Berln'; use an IANA name like ...".
[[nodiscard]] Result<std::shared_ptr<const TimeZone>> FindTimeZone(
    std::string_view name, const std::string& directory = TimeZone::DefaultDirectory());

}  // namespace mamori::util
