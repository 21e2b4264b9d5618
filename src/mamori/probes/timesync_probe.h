// Check type "timesync": is the system clock synchronized, how far off may it
// be, and which time daemon keeps it (incident 2: ntpd stopped after a
// maintenance window and the clock ran 3 hours off, unnoticed).
//
// The kernel's view comes from ntp_adjtime(2) in read-only mode (no privilege
// needed): STA_UNSYNC (set by the kernel once the maximum error passes 16 s
// without a daemon updating it), the estimated and maximum errors and the
// last measured offset. The daemon is found by scanning <proc_root>/*/comm
// for chronyd, ntpd (ntp and OpenNTPD), systemd-timesyncd and ntpd-rs. In a
// container the kernel clock is the host's: it can be synchronized with no
// daemon visible, which is reported as such and is fine.
//
// Unsynchronized is WARNING (not CRITICAL: the services still run, but
// timestamps go wrong), unless allow_unsynced; an offset above max_offset
// (default 100ms) is WARNING too. Evaluate() is the pure decision, so its
// edges are testable with crafted readings; Run() feeds it the real ones.
//
// With `server:` the probe also asks that NTP server (SNTP, see sntp.h) and
// judges the measured offset itself: above max_offset WARNING, above
// critical_offset (default 1 s) CRITICAL, no answer UNKNOWN. That catches a
// clock that is hours off while the kernel flags look fine, and a server
// pointed at from inside the machine is the cheapest second opinion.
// Stateless; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "mamori/check/probe.h"
#include "mamori/util/result.h"

namespace mamori::probes::timesync {

struct KernelTime {
  int state = 0;            // ntp_adjtime return: TIME_OK ... TIME_ERROR
  bool unsynced = true;     // STA_UNSYNC set, or state TIME_ERROR
  int64_t offset_ns = 0;    // last offset applied by the daemon
  int64_t maxerror_us = 0;  // maximum error bound
  int64_t esterror_us = 0;  // estimated error
};

// Reads the kernel's clock state; an Error only if the call itself fails.
Result<KernelTime> ReadKernelTime();

// comm names of the known time daemons running under proc_root, sorted,
// each shown once ("systemd-timesyncd" for its 15-byte comm).
std::vector<std::string> RunningTimeDaemons(const std::string& proc_root);

struct Options {
  Duration max_offset = std::chrono::milliseconds(100);
  Duration critical_offset = std::chrono::seconds(1);  // with `server:` only
  bool allow_unsynced = false;
  std::string server;  // "host[:port]" of an NTP server to compare with; empty: none
};

Observation Evaluate(const KernelTime& t, const std::vector<std::string>& daemons,
                     const Options& o);

// Folds an SNTP measurement against `o.server` (or the reason there is none)
// into `obs`: the worse status wins and the summary leads with the offset
// when that is the problem.
struct ServerReading {
  bool ok = false;
  Duration offset{};  // server minus local: positive when this clock is behind
  Duration delay{};
  int stratum = 0;
  std::string error;  // when !ok
};
void AddServerReading(const ServerReading& r, const Options& o, Observation& obs);

class TimesyncProbe final : public BlockingProbe {
 public:
  explicit TimesyncProbe(Options o, std::string proc_root = "/proc")
      : o_(o), proc_root_(std::move(proc_root)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
  std::string proc_root_;
};

}  // namespace mamori::probes::timesync
