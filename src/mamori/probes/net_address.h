// Network address helpers shared by the `tcp` and `dns` check types: strict
// parsing of what users write in configuration ("host:port", "[v6]:port", an
// IP literal, a host name) and a blocking host lookup through the system
// resolver (getaddrinfo, so /etc/hosts and nsswitch apply).
//
// Parsers are pure functions and thread-safe; each error message says what is
// wrong with the text, and callers add the hint. LookupHost() blocks for as
// long as the system resolver takes (glibc's own timeouts from resolv.conf
// bound it) and cannot be cancelled, so callers run it on the worker pool and
// race it against their deadline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "mamori/util/result.h"

namespace mamori::net {

struct HostPort {
  std::string host;  // a host name, or an IP literal without brackets
  uint16_t port = 0;
  bool is_ip = false;           // host is an IP literal (no lookup needed)
  boost::asio::ip::address ip;  // valid when is_ip
};

// An IPv4 dotted quad or an IPv6 address (no brackets, no zone id).
Result<boost::asio::ip::address> ParseIp(std::string_view text);

// A DNS host name: labels of letters, digits, '-' and '_' (1-63 characters,
// not starting or ending with '-'), at most 253 characters, one optional
// trailing dot. All-numeric dotted names are rejected (they are broken IPv4
// addresses, not names).
Status ValidateHostName(std::string_view text);

// "host:port", "1.2.3.4:port" or "[v6]:port" with a port of 1-65535.
Result<HostPort> ParseHostPort(std::string_view text);

// An IP literal with an optional port: "1.2.3.4", "1.2.3.4:53", "::1",
// "[::1]:53". Host names are rejected.
Result<HostPort> ParseIpPort(std::string_view text, uint16_t default_port);

// "1.2.3.4:80" or "[::1]:80".
std::string FormatEndpoint(const boost::asio::ip::address& ip, uint16_t port);

// Resolves `host` through getaddrinfo. `family` is AF_INET, AF_INET6 or
// AF_UNSPEC. Returns the distinct addresses in resolver order; the error is
// getaddrinfo's own message ("Name or service not known").
Result<std::vector<boost::asio::ip::address>> LookupHost(const std::string& host, int family);

}  // namespace mamori::net
