// The judgment of the `timedaemon` check type: the time daemon's own state,
// beside what the `timesync` check reads from the kernel. Incident 2's clock
// drifted for hours because the time daemon stayed stopped after a
// maintenance: its unit was enabled and nobody started it again. Here that
// is CRITICAL "chrony.service is enabled and stopped: clock not disciplined",
// read from systemd (a time daemon unit whose unit file is enabled and that
// is inactive or failed, not skipped by its Condition, as chrony is in a
// container without CAP_SYS_TIME). A running chronyd is asked how it is
// doing (`chronyc -c -n tracking`): "Not synchronised" is WARNING.
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

struct Reading {
  bool systemd = false;  // units could be read
  std::string systemd_error;
  std::vector<systemd::UnitRecord> units;  // the kTimeUnits systemd knows
  std::optional<ChronyTracking> chrony;    // chronyc answered
  std::string chrony_error;                // why not, when it was asked
};

// CRITICAL for every enabled time daemon unit that is stopped or failed;
// WARNING for a chronyd that is not synchronised; OK with what runs
// otherwise. Metrics: stopped_units, chrony_synchronised (1/0),
// chrony_offset_ms, chrony_stratum.
Observation Judge(const Reading& r);

}  // namespace mamori::host::timedaemon
