#include "mamori/host/timedaemon_bus.h"

#include <systemd/sd-bus.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace mamori::host::timedaemon {
namespace {

constexpr const char* kTimedate = "org.freedesktop.timedate1";
constexpr const char* kTimedatePath = "/org/freedesktop/timedate1";
constexpr const char* kTimesync = "org.freedesktop.timesync1";
constexpr const char* kTimesyncPath = "/org/freedesktop/timesync1";
constexpr const char* kTimesyncIface = "org.freedesktop.timesync1.Manager";

struct Bus {
  sd_bus* b = nullptr;
  ~Bus() { sd_bus_flush_close_unref(b); }
};

struct Err {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~Err() { sd_bus_error_free(&e); }
  std::string Text(int r) const {
    return sd_bus_error_is_set(&e) ? fmt::format("{} ({})", e.message ? e.message : "", e.name)
                                   : std::strerror(-r);
  }
};

class Deadline {
 public:
  Deadline(const Clock& clock, MonoTime at) : clock_(clock), at_(at) {}
  // Microseconds left, 0 once the deadline has passed.
  uint64_t Left() const {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(at_ - clock_.Monotonic());
    return us.count() > 0 ? static_cast<uint64_t>(us.count()) : 0;
  }

 private:
  const Clock& clock_;
  MonoTime at_;
};

// Connects and says Hello without ever waiting past the deadline (sd-bus
// would wait for the Hello reply without a bound on the first call).
Result<bool> Connect(Bus& bus, const std::string& address, const Deadline& d) {
  int r = sd_bus_new(&bus.b);
  if (r >= 0)
    r = sd_bus_set_address(
        bus.b, address.empty() ? "unix:path=/run/dbus/system_bus_socket" : address.c_str());
  if (r >= 0) r = sd_bus_set_bus_client(bus.b, 1);
  if (r >= 0) r = sd_bus_start(bus.b);
  while (r >= 0 && (r = sd_bus_is_ready(bus.b)) == 0) {
    if ((r = sd_bus_process(bus.b, nullptr)) > 0) continue;
    if (r < 0) break;
    if (d.Left() == 0) return Error("timed out connecting to the system bus");
    r = sd_bus_wait(bus.b, d.Left());
  }
  if (r < 0) return Error(fmt::format("cannot connect to the system bus: {}", std::strerror(-r)));
  return true;
}

Result<bool> GetBool(Bus& bus, const Deadline& d, const char* member) {
  sd_bus_set_method_call_timeout(bus.b, std::max<uint64_t>(d.Left(), 1));
  Err err;
  int v = 0;
  int r = sd_bus_get_property_trivial(bus.b, kTimedate, kTimedatePath, kTimedate, member, &err.e,
                                      'b', &v);
  if (r < 0) return Error(fmt::format("{} of {}: {}", member, kTimedate, err.Text(r)));
  return v != 0;
}

// NTPMessage (uuuuittayttttbtt): leap, version, mode, stratum, precision,
// root delay, root dispersion, reference, then the four timestamps (µs)
// from which the offset is ((T2 - T1) + (T3 - T4)) / 2.
Result<bool> ReadNtpMessage(Bus& bus, const Deadline& d, Timesyncd& t) {
  sd_bus_set_method_call_timeout(bus.b, std::max<uint64_t>(d.Left(), 1));
  Err err;
  sd_bus_message* m = nullptr;
  int r = sd_bus_get_property(bus.b, kTimesync, kTimesyncPath, kTimesyncIface, "NTPMessage", &err.e,
                              &m, "(uuuuittayttttbtt)");
  if (r < 0) return Error(fmt::format("NTPMessage of {}: {}", kTimesync, err.Text(r)));
  uint32_t leap = 0, version = 0, mode = 0, stratum = 0;
  int32_t precision = 0;
  uint64_t delay = 0, dispersion = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  r = sd_bus_message_enter_container(m, 'r', "uuuuittayttttbtt");
  if (r >= 0)
    r = sd_bus_message_read(m, "uuuuitt", &leap, &version, &mode, &stratum, &precision, &delay,
                            &dispersion);
  if (r >= 0) r = sd_bus_message_skip(m, "ay");
  if (r >= 0) r = sd_bus_message_read(m, "tttt", &t1, &t2, &t3, &t4);
  sd_bus_message_unref(m);
  if (r < 0) return Error(fmt::format("NTPMessage of {}: {}", kTimesync, std::strerror(-r)));
  if (t3 == 0) return true;  // no reply yet: every field is zero
  t.stratum = static_cast<int>(stratum);
  const double offset_us = (static_cast<double>(static_cast<int64_t>(t2 - t1)) +
                            static_cast<double>(static_cast<int64_t>(t3 - t4))) /
                           2;
  t.offset_ms = offset_us / 1000;
  return true;
}

void ReadTimesync(Bus& bus, const Deadline& d, Timesyncd& t) {
  sd_bus_set_method_call_timeout(bus.b, std::max<uint64_t>(d.Left(), 1));
  Err err;
  char* s = nullptr;
  int r = sd_bus_get_property_string(bus.b, kTimesync, kTimesyncPath, kTimesyncIface, "ServerName",
                                     &err.e, &s);
  if (r < 0) {
    t.timesync_error = fmt::format("ServerName of {}: {}", kTimesync, err.Text(r));
    return;
  }
  t.server = s ? s : "";
  std::free(s);
  if (auto m = ReadNtpMessage(bus, d, t); !m.ok()) t.timesync_error = m.error().message();
}

}  // namespace

Result<Timesyncd> ReadTimesyncd(const std::string& address, bool ask_timesync, const Clock& clock,
                                MonoTime deadline) {
  const Deadline d(clock, deadline);
  Bus bus;
  if (auto c = Connect(bus, address, d); !c.ok()) return c.error();
  Timesyncd t;
  auto ntp = GetBool(bus, d, "NTP");
  if (!ntp.ok()) return ntp.error();
  t.ntp = *ntp;
  auto synced = GetBool(bus, d, "NTPSynchronized");
  if (!synced.ok()) return synced.error();
  t.synchronized = *synced;
  if (ask_timesync) ReadTimesync(bus, d, t);
  return t;
}

}  // namespace mamori::host::timedaemon
