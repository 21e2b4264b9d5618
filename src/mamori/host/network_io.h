// The `network` check's edge to the host: files under an injected proc, sys
// and fs root, and the only packets it sends, all unprivileged:
//  - the gateway: one UDP datagram to the gateway's port 33434 (the
//    traceroute port, where nothing listens) from a connected socket, which
//    makes the kernel resolve the gateway's link-layer address. The gateway
//    answered when the socket reports "port unreachable" (an ICMP error from
//    it) or its ARP entry is valid; it does not answer when the socket
//    reports "host unreachable" (the kernel's ARP resolution failed) or the
//    ARP entry is still incomplete at the deadline. With no ARP entry at all
//    (point-to-point links, IPv6) and no ICMP error, it is not known. ICMP
//    echo needs a raw socket or net.ipv4.ping_group_range, so it is not used.
//  - each resolver: one DNS query (A for "localhost", answered by every
//    resolver without going out) over UDP, resent every second while
//    unanswered, all resolvers at once. It proves the resolver process
//    answers on its address, not that it can resolve names outside: a `dns`
//    check does that.
//
// Every wait ends by `deadline` (poll with the time left). Blocking; call
// from a worker thread; nothing is shared between calls. Failure: readings,
// never exceptions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mamori/host/network_state.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::host::network {

// Reads <root>/net/route and <root>/net/ipv6_route: IPv4 first.
std::vector<DefaultRoute> ReadDefaultRoutes(const std::string& proc_root);

// Asks `gateway` (an IPv4 or IPv6 address) on `iface` as described above.
// `port`: where the datagram goes (tests point it at a socket that never
// answers).
GatewayReading AskGateway(const std::string& gateway, const std::string& iface,
                          const std::string& proc_root, const Clock& clock, MonoTime deadline,
                          uint16_t port = 33434);

// "ip", "ip:port" or "[ipv6]:port" (port 53 when omitted).
struct Endpoint {
  std::string ip;
  uint16_t port = 53;
};
Result<Endpoint> ParseEndpoint(const std::string& text);

// One query to each of `servers` (as ParseEndpoint takes them); a reading
// per server, in order.
std::vector<ResolverReading> AskResolvers(const std::vector<std::string>& servers,
                                          const Clock& clock, MonoTime deadline);

// carrier_down_count (or half of carrier_changes on kernels without it) of
// every interface under <sys_root>/class/net, by name.
std::map<std::string, uint64_t> ReadCarrierDowns(const std::string& sys_root);

}  // namespace mamori::host::network
