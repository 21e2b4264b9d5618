// The judgment of the `network` check type over plain readings: the default
// routes the kernel has (/proc/net/route, /proc/net/ipv6_route), the ARP
// entry of the gateway (/proc/net/arp), the nameservers of resolv.conf, link
// flaps counted from the kernel's per-interface carrier counters, and the
// observation that names what is wrong ("no default route", "gateway
// 192.0.2.1 (eth0) does not answer", "resolver 10.0.0.53 did not answer",
// "eth0 went down 7 times between 13:00 and 13:40 UTC"). Kept apart from the
// socket and file reading (network_io.h) so every rule is tested with
// crafted text.
//
// Plain values and functions, thread-safe; FlapTracker is not (the probe
// that owns it never runs concurrently with itself) and is bounded: at most
// kMaxInterfaces interfaces and kMaxFlapRecords records per interface.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/observation.h"
#include "mamori/util/clock.h"

namespace mamori::host::network {

struct DefaultRoute {
  std::string iface;
  std::string gateway;  // empty: an on-link default (ppp, wireguard): no next hop
  uint32_t metric = 0;
  bool ipv6 = false;
};

// Usable default routes (up, not reject), each table's lowest metric first.
std::vector<DefaultRoute> ParseRoutes4(std::string_view proc_net_route);
std::vector<DefaultRoute> ParseRoutes6(std::string_view proc_net_ipv6_route);

// The row of `ip` on `device` in /proc/net/arp; `complete` is ATF_COM: the
// kernel holds a valid link-layer address (reachable, stale, delay or probe,
// not incomplete or failed). An empty `device` matches any. nullopt: no row.
struct ArpEntry {
  bool complete = false;
};
std::optional<ArpEntry> FindArp(std::string_view proc_net_arp, std::string_view ip,
                                std::string_view device);

// The `nameserver` lines of resolv.conf in order, at most three (what the C
// library uses).
std::vector<std::string> ParseNameservers(std::string_view resolv_conf);

// True when `iface` is counted: it matches one of `only` (or `only` is
// empty) and none of `ignore` (fnmatch globs).
bool InterfaceSelected(const std::string& iface, const std::vector<std::string>& only,
                       const std::vector<std::string>& ignore);

inline constexpr size_t kMaxInterfaces = 64;
inline constexpr size_t kMaxFlapRecords = 32;

// Link flaps from a counter of carrier losses that only grows (the kernel's
// carrier_down_count since the interface appeared). The first reading of an
// interface is its baseline; each later growth is recorded with the time of
// the previous reading and of this one, since the flaps happened in between.
class FlapTracker {
 public:
  struct Flaps {
    std::string iface;
    int64_t downs = 0;
    WallTime first{};  // earliest "since" of the records counted
    WallTime last{};   // latest reading that saw a change
  };
  // Records one reading per interface; interfaces not in `downs` are
  // forgotten (removed).
  void Observe(const std::map<std::string, uint64_t>& downs, WallTime now);
  // Flaps recorded within `window` of `now`, by interface name.
  std::vector<Flaps> Within(WallTime now, Duration window) const;

 private:
  struct Record {
    WallTime since, at;
    int64_t downs;
  };
  struct Iface {
    uint64_t last = 0;
    WallTime last_time{};
    std::deque<Record> records;
  };
  std::map<std::string, Iface> ifaces_;
};

struct GatewayReading {
  enum class Verdict { kAnswered, kNoAnswer, kUnknown };
  Verdict verdict = Verdict::kUnknown;
  std::string address;  // the gateway asked
  std::string iface;
  std::string how;  // "ARP entry valid", "port unreachable", "ARP failed", ...
};

struct ResolverReading {
  std::string server;  // as configured ("10.0.0.53", "127.0.0.1:5353")
  bool answered = false;
  uint8_t rcode = 0;  // when answered
  Duration rtt{};     // when answered
  std::string error;  // when not answered: "no answer within 2s", "connection refused"
};

struct Reading {
  std::vector<DefaultRoute> routes;
  std::optional<GatewayReading> gateway;  // none: no next hop to ask
  std::vector<ResolverReading> resolvers;
  std::vector<FlapTracker::Flaps> flaps;  // within the window
};

// "13:40 UTC"-style clock time of `t` (UTC, minutes).
std::string ClockTime(WallTime t);

// CRITICAL: no default route, or the gateway does not answer. WARNING: a
// resolver that does not answer, refuses or fails (SERVFAIL), and flaps.
// OK otherwise; the summary always names the route and what was asked.
// Metrics: default_routes, gateway_ok (1/0, absent when unknown),
// resolvers_answering, resolver_ms:SERVER, flaps:IFACE.
Observation Report(const Reading& r);

}  // namespace mamori::host::network
