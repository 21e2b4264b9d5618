#include "mamori/host/network_state.h"

#include <arpa/inet.h>
#include <fnmatch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <sstream>

#include "mamori/host/summary_parts.h"
#include "mamori/net/dns_message.h"

namespace mamori::host::network {
namespace {

constexpr unsigned kRtfUp = 0x1;
constexpr unsigned kRtfGateway = 0x2;
constexpr unsigned kRtfReject = 0x200;
constexpr unsigned kAtfCom = 0x2;

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

std::optional<uint64_t> Hex(const std::string& s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void SortByMetric(std::vector<DefaultRoute>& v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.metric < b.metric; });
}

}  // namespace

std::vector<DefaultRoute> ParseRoutes4(std::string_view text) {
  std::vector<DefaultRoute> out;
  for (const auto& line : Lines(text)) {
    // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
    auto f = Fields(line);
    if (f.size() < 8 || f[0] == "Iface") continue;
    auto dest = Hex(f[1]), gw = Hex(f[2]), flags = Hex(f[3]), mask = Hex(f[7]);
    if (!dest || !gw || !flags || !mask || *dest != 0 || *mask != 0) continue;
    if (!(*flags & kRtfUp) || (*flags & kRtfReject)) continue;
    DefaultRoute r;
    r.iface = f[0];
    r.metric = static_cast<uint32_t>(std::strtoul(f[6].c_str(), nullptr, 10));
    if ((*flags & kRtfGateway) && *gw != 0) {
      // The kernel prints the address as a host-order integer of the
      // network-order bytes: copying it back restores those bytes.
      uint32_t raw = static_cast<uint32_t>(*gw);
      in_addr a{};
      std::memcpy(&a, &raw, sizeof raw);
      char buf[INET_ADDRSTRLEN];
      if (::inet_ntop(AF_INET, &a, buf, sizeof buf)) r.gateway = buf;
    }
    out.push_back(std::move(r));
  }
  SortByMetric(out);
  return out;
}

std::vector<DefaultRoute> ParseRoutes6(std::string_view text) {
  std::vector<DefaultRoute> out;
  for (const auto& line : Lines(text)) {
    // dest plen src plen nexthop metric refcnt use flags iface
    auto f = Fields(line);
    if (f.size() < 10 || f[0].size() != 32 || f[4].size() != 32) continue;
    if (f[0] != std::string(32, '0') || f[1] != "00") continue;
    auto metric = Hex(f[5]), flags = Hex(f[8]);
    if (!metric || !flags || !(*flags & kRtfUp) || (*flags & kRtfReject)) continue;
    DefaultRoute r;
    r.iface = f[9];
    r.metric = static_cast<uint32_t>(*metric);
    r.ipv6 = true;
    if ((*flags & kRtfGateway) && f[4] != std::string(32, '0')) {
      in6_addr a{};
      for (size_t i = 0; i < 16; ++i) {
        auto byte = Hex(f[4].substr(i * 2, 2));
        if (!byte) return out;
        a.s6_addr[i] = static_cast<uint8_t>(*byte);
      }
      char buf[INET6_ADDRSTRLEN];
      if (::inet_ntop(AF_INET6, &a, buf, sizeof buf)) r.gateway = buf;
    }
    out.push_back(std::move(r));
  }
  SortByMetric(out);
  return out;
}

std::optional<ArpEntry> FindArp(std::string_view text, std::string_view ip,
                                std::string_view device) {
  for (const auto& line : Lines(text)) {
    // IP-address HW-type Flags HW-address Mask Device
    auto f = Fields(line);
    if (f.size() < 6 || f[0] != ip || (!device.empty() && f[5] != device)) continue;
    auto flags = Hex(f[2].starts_with("0x") ? f[2].substr(2) : f[2]);
    return ArpEntry{flags && (*flags & kAtfCom)};
  }
  return std::nullopt;
}

std::vector<std::string> ParseNameservers(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& line : Lines(text)) {
    auto f = Fields(line);
    if (f.size() >= 2 && f[0] == "nameserver" && out.size() < 3) out.push_back(f[1]);
  }
  return out;
}

bool InterfaceSelected(const std::string& iface, const std::vector<std::string>& only,
                       const std::vector<std::string>& ignore) {
  auto match = [&](const std::vector<std::string>& globs) {
    return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) {
      return ::fnmatch(g.c_str(), iface.c_str(), 0) == 0;
    });
  };
  return (only.empty() || match(only)) && !match(ignore);
}

void FlapTracker::Observe(const std::map<std::string, uint64_t>& downs, WallTime now) {
  for (auto it = ifaces_.begin(); it != ifaces_.end();)
    it = downs.count(it->first) ? std::next(it) : ifaces_.erase(it);
  for (const auto& [name, count] : downs) {
    auto found = ifaces_.find(name);
    if (found == ifaces_.end()) {
      if (ifaces_.size() >= kMaxInterfaces) continue;
      ifaces_[name] = Iface{count, now, {}};  // the baseline: since boot, not timed
      continue;
    }
    Iface& i = found->second;
    // A counter that went down belongs to a new interface of the same name.
    if (count > i.last) {
      i.records.push_back({i.last_time, now, static_cast<int64_t>(count - i.last)});
      while (i.records.size() > kMaxFlapRecords) i.records.pop_front();
    }
    i.last = count;
    i.last_time = now;
  }
}

std::vector<FlapTracker::Flaps> FlapTracker::Within(WallTime now, Duration window) const {
  std::vector<Flaps> out;
  for (const auto& [name, i] : ifaces_) {
    Flaps f{name, 0, {}, {}};
    for (const auto& r : i.records) {
      if (now - r.at > window) continue;
      if (f.downs == 0 || r.since < f.first) f.first = r.since;
      f.last = std::max(f.last, r.at);
      f.downs += r.downs;
    }
    if (f.downs > 0) out.push_back(f);
  }
  return out;
}

std::string ClockTime(WallTime t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&s, &tm);
  return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

namespace {

std::string RouteText(const DefaultRoute& r) {
  std::string via = r.gateway.empty() ? fmt::format("on {}", r.iface)
                                      : fmt::format("via {} ({})", r.gateway, r.iface);
  return r.ipv6 ? via + " IPv6" : via;
}

// Problems go to `bad` (WARNING) and the facts that are fine to `good`.
void AddResolvers(const Reading& r, Observation& o, std::vector<std::string>& bad,
                  std::vector<std::string>& good) {
  int answering = 0;
  for (const auto& s : r.resolvers) {
    if (!s.answered) {
      bad.push_back(fmt::format("resolver {} did not answer: {}", s.server, s.error));
      continue;
    }
    const auto ms = std::chrono::duration<double, std::milli>(s.rtt).count();
    o.AddMetric("resolver_ms:" + s.server, ms);
    if (s.rcode != dns::kRcodeNoError && s.rcode != dns::kRcodeNxDomain) {
      bad.push_back(fmt::format("resolver {} answers {}", s.server, dns::RcodeText(s.rcode)));
      continue;
    }
    ++answering;
    good.push_back(fmt::format("resolver {} answers ({:.0f} ms)", s.server, ms));
  }
  if (r.resolvers.empty()) good.push_back("no resolver configured");
  o.AddMetric("resolvers_answering", answering);
}

}  // namespace

Observation Report(const Reading& r) {
  Observation o;
  SummaryParts parts;
  auto& [critical, warning, good] = parts;
  o.AddMetric("default_routes", static_cast<double>(r.routes.size()));
  if (r.routes.empty())
    critical.push_back("no default route (IPv4 or IPv6)");
  else
    good.push_back("default route " + RouteText(r.routes.front()));
  if (const auto& g = r.gateway) {
    using V = GatewayReading::Verdict;
    if (g->verdict == V::kNoAnswer)
      critical.push_back(
          fmt::format("gateway {} ({}) does not answer: {}", g->address, g->iface, g->how));
    else if (g->verdict == V::kAnswered)
      good.push_back(fmt::format("gateway answers ({})", g->how));
    else
      good.push_back(fmt::format("gateway not verified ({})", g->how));
    if (g->verdict != V::kUnknown) o.AddMetric("gateway_ok", g->verdict == V::kAnswered);
  }
  AddResolvers(r, o, warning, good);
  for (const auto& f : r.flaps) {
    o.AddMetric("flaps:" + f.iface, static_cast<double>(f.downs));
    warning.push_back(
        fmt::format("{} went down {} between {} and {} UTC", f.iface,
                    f.downs == 1 ? std::string("once") : fmt::format("{} times", f.downs),
                    ClockTime(f.first), ClockTime(f.last)));
  }
  parts.Into(o);
  return o;
}

}  // namespace mamori::host::network
