// systemd-timesyncd's state over D-Bus (sd-bus): org.freedesktop.timedate1
// (systemd-timedated; NTP and NTPSynchronized) and, when asked for,
// org.freedesktop.timesync1 (timesyncd itself; ServerName and NTPMessage).
// Both live on the system bus (dbus-daemon), not on systemd's private
// socket. timedate1 is bus-activated (timedated starts, answers and exits
// after a while on its own); timesync1 is asked only while timesyncd runs,
// because asking it otherwise would start the daemon this check watches.
//
// One connection per call, closed before returning; every step (the
// handshake, each property) is bounded by `deadline`. Blocking, reentrant.
// Failure: an Error naming the step and the D-Bus error; a timesync1 that
// cannot be read is said in Timesyncd::timesync_error, timedate1's answer
// still counts.
#pragma once

#include <string>

#include "mamori/host/timedaemon_state.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::host::timedaemon {

// `address`: a D-Bus address to use instead of the system bus (tests).
Result<Timesyncd> ReadTimesyncd(const std::string& address, bool ask_timesync, const Clock& clock,
                                MonoTime deadline);

}  // namespace mamori::host::timedaemon
