#include "mamori/host/network_probe.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mamori/check/registry.h"
#include "mamori/host/network_io.h"

namespace mamori::probes::network {
namespace {

using namespace host::network;

// The gateway to ask: the override, else the next hop of the best IPv4
// default route, else of the best IPv6 one (IPv4 first: a dual-stack host's
// IPv6 router is often unreachable without anything being wrong with it).
std::optional<std::pair<std::string, std::string>> GatewayToAsk(
    const std::vector<DefaultRoute>& routes, const std::string& override_ip) {
  for (bool v6 : {false, true})
    for (const auto& r : routes) {
      if (r.ipv6 != v6 || r.gateway.empty()) continue;
      if (!override_ip.empty()) return std::make_pair(override_ip, std::string());
      // A link-local router is only reachable through its interface.
      const bool link_local = v6 && r.gateway.starts_with("fe80:");
      return std::make_pair(link_local ? r.gateway + "%" + r.iface : r.gateway, r.iface);
    }
  if (!override_ip.empty()) return std::make_pair(override_ip, std::string());
  return std::nullopt;
}

std::vector<std::string> Nameservers(const std::string& fs_root) {
  std::ifstream in(fs_root + "/etc/resolv.conf");
  std::ostringstream s;
  s << in.rdbuf();
  return ParseNameservers(s.str());
}

}  // namespace

Observation NetworkProbe::Run(const Clock& clock, MonoTime deadline) {
  Reading r;
  r.routes = ReadDefaultRoutes(o_.proc_root);
  // Leave a little of the check's time for reporting.
  const MonoTime end = deadline - std::chrono::milliseconds(20);
  if (auto gw = GatewayToAsk(r.routes, o_.gateway)) {
    const MonoTime half = clock.Monotonic() + (end - clock.Monotonic()) / 2;
    r.gateway = AskGateway(gw->first, gw->second, o_.proc_root, clock, half, o_.gateway_port);
  }
  r.resolvers =
      AskResolvers(o_.resolvers.empty() ? Nameservers(o_.fs_root) : o_.resolvers, clock, end);
  std::map<std::string, uint64_t> downs;
  for (const auto& [name, n] : ReadCarrierDowns(o_.sys_root))
    if (InterfaceSelected(name, o_.interfaces, o_.ignore)) downs[name] = n;
  const WallTime now = clock.Now();
  flaps_.Observe(downs, now);
  r.flaps = flaps_.Within(now, o_.flap_window);
  return Report(r);
}

namespace {

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  if (auto g = node.GetString("gateway")) {
    // A port makes no sense for a gateway: "[...]" and "a:b" are refused.
    const bool port = g->starts_with('[') || std::count(g->begin(), g->end(), ':') == 1;
    if (port || !ParseEndpoint(*g).ok()) {
      node.ErrorAt("gateway", "'" + *g + "' is not an IP address",
                   "write the gateway's address, such as 192.168.1.1 or fe80::1%eth0");
      return nullptr;
    }
    o.gateway = *g;
  }
  if (auto rs = node.GetStringList("resolver")) {
    for (const auto& s : *rs) {
      if (auto e = ParseEndpoint(s); !e.ok()) {
        node.ErrorAt("resolver", "'" + s + "' is not a resolver address: " + e.error().message(),
                     "write an IP address with an optional port: 10.0.0.53, 127.0.0.1:5353");
        return nullptr;
      }
    }
    o.resolvers = *rs;
  }
  if (auto i = node.GetStringList("interfaces")) o.interfaces = *i;
  if (auto i = node.GetStringList("ignore")) o.ignore = *i;
  if (auto w = node.GetDuration("flap_window")) {
    if (*w <= Duration::zero()) {
      node.ErrorAt("flap_window", "flap_window must be longer than zero", "e.g. flap_window: 1h");
      return nullptr;
    }
    o.flap_window = *w;
  }
  return std::make_unique<NetworkProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("network",
        "the network after a reboot: default route, gateway, resolvers answering, link flaps",
        Build);
}

}  // namespace mamori::probes::network
