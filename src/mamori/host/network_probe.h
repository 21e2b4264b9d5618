// Check type "network": what an operator checks when a host came back from a
// reboot or a power cut and "the network is odd" (incident 3: the link came
// up for five minutes and dropped): a default route exists, its gateway
// answers, the configured resolvers answer, and no interface's link went
// down recently ("eth0 went down 7 times between 13:00 and 13:40 UTC").
// How each is asked, unprivileged, is in network_io.h; the judgment in
// network_state.h.
//
// Keys: `gateway:` (an address to ask instead of the default route's),
// `resolver:` (one or a list of "ip[:port]" instead of resolv.conf's
// nameservers), `interfaces:` (globs of interfaces whose flaps count; all
// when omitted), `ignore:` (globs; default lo, veth*, docker*, br-*),
// `flap_window:` (default 1h). The check's `timeout` bounds everything: the
// gateway gets at most half of it, the resolvers (asked all at once) the rest.
//
// Ownership/threading: a BlockingProbe; Run() never runs concurrently with
// itself, which is what lets it keep the carrier counters and their flap
// records (FlapTracker) without a lock. Flaps show from the second run on:
// the first reading is the baseline. Failure: a reading it cannot take is
// reported as such in the summary (a resolver that cannot be asked did not
// answer; a gateway that cannot be told is "not verified"), never thrown.
#pragma once

#include <string>
#include <vector>

#include "mamori/check/probe.h"
#include "mamori/host/network_state.h"

namespace mamori::probes::network {

struct Options {
  std::string gateway;                 // empty: the default route's
  std::vector<std::string> resolvers;  // empty: <fs_root>/etc/resolv.conf
  std::vector<std::string> interfaces;
  std::vector<std::string> ignore{"lo", "veth*", "docker*", "br-*"};
  Duration flap_window = std::chrono::hours(1);
  // The host's files; tests point these at fake trees.
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string fs_root;
  uint16_t gateway_port = 33434;
};

class NetworkProbe final : public BlockingProbe {
 public:
  explicit NetworkProbe(Options o) : o_(std::move(o)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
  host::network::FlapTracker flaps_;
};

}  // namespace mamori::probes::network
