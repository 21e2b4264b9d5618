// The judgment of the `timedaemon` check type: the time daemon's own state,
// beside what the `timesync` check reads from the kernel. Incident 2's clock
// drifted for hours because the time daemon stayed stopped after a
// maintenance: its unit was enabled and nobody started it again. Here that
// is CRITICAL "chrony.service is enabled and stopped: clock not disciplined",
// read from systemd (a time daemon unit whose unit file is enabled and that
// is inactive or failed, not skipped by its Condition, as chrony is in a
// container without CAP_SYS_TIME), with the safe remedy (starting it
// again) named. A running daemon is asked how it is doing, in its own
// words: chronyd through `chronyc -c -n tracking`, systemd-timesyncd through
// D-Bus (org.freedesktop.timedate1's NTPSynchronized, timesync1's ServerName
// and NTPMessage), ntpd through its mode-6 system variables (`ntpq -c rv`).
// A running daemon that is not synchronised is WARNING.
//
// Plain values and pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/observation.h"
#include "mamori/host/systemd_units.h"
#include "mamori/util/result.h"

namespace mamori::host::timedaemon {

// The time daemons' units, asked of systemd by name.
inline constexpr const char* kTimeUnits[] = {
    "chrony.service", "chronyd.service", "systemd-timesyncd.service", "ntp.service",
    "ntpsec.service", "ntpd.service",    "openntpd.service"};

// One line of `chronyc -c tracking`.
struct ChronyTracking {
  std::string ref_id;    // hex, "00000000" when there is no source
  std::string ref_name;  // the source's address (with -n)
  int stratum = 0;
  double offset_s = 0;  // system time minus NTP time (positive: fast)
  std::string leap;     // "Normal", "Insert second", "Delete second", "Not synchronised"
};
Result<ChronyTracking> ParseChronyTracking(std::string_view csv);

// systemd-timesyncd as D-Bus shows it: org.freedesktop.timedate1 (NTP: an
// NTP unit is enabled; NTPSynchronized: the kernel's clock is synchronised)
// and, while timesyncd runs, org.freedesktop.timesync1 (its server and the
// last NTP reply: leap, stratum, and the offset it measured).
struct Timesyncd {
  bool ntp = false;
  bool synchronized = false;
  std::string server;          // ServerName; "" when timesync1 was not read
  std::optional<int> stratum;  // NTPMessage, when timesyncd has had a reply
  std::optional<double> offset_ms;
  std::string timesync_error;  // why timesync1 was not read
};

// ntpd's system variables, the `ntpq -c rv` (READVAR) answer: leap 3
// ("11", alarm) or stratum 16 means not synchronised.
struct NtpdVars {
  int leap = 3;
  int stratum = 16;
  double offset_ms = 0;
  std::string refid;
};
Result<NtpdVars> ParseNtpqReadvar(std::string_view text);

struct Reading {
  bool systemd = false;  // units could be read
  std::string systemd_error;
  std::vector<systemd::UnitRecord> units;  // the kTimeUnits systemd knows
  std::optional<ChronyTracking> chrony;    // chronyc answered
  std::string chrony_error;                // why not, when it was asked
  std::optional<Timesyncd> timesyncd;      // timedate1 answered
  std::string timesyncd_error;             // why not, when it was asked
  std::optional<NtpdVars> ntpd;            // ntpq answered
  std::string ntpd_error;                  // why not, when it was asked
};

// CRITICAL for every enabled time daemon unit that is stopped or failed,
// naming the safe remedy (`systemctl restart UNIT`); WARNING for a running
// daemon that is not synchronised; OK with what runs otherwise. Metrics:
// stopped_units, chrony_synchronised (1/0), chrony_offset_ms,
// chrony_stratum, timesyncd_synchronised, ntp_enabled, timesyncd_stratum,
// timesyncd_offset_ms, ntpd_synchronised, ntpd_stratum, ntpd_offset_ms.
Observation Judge(const Reading& r);

}  // namespace mamori::host::timedaemon
