#include "mamori/probes/net_address.h"

#include <netdb.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mamori::net {
namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<uint16_t> ParsePort(std::string_view s) {
  if (s.empty()) return Error("missing port after ':'");
  if (!IsDigits(s) || s.size() > 5) return Error(fmt::format("port '{}' is not a number", s));
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  if (v < 1 || v > 65535) return Error(fmt::format("port {} is out of range 1-65535", v));
  return static_cast<uint16_t>(v);
}

}  // namespace

Result<boost::asio::ip::address> ParseIp(std::string_view text) {
  boost::system::error_code ec;
  if (text.find('%') != std::string_view::npos)
    return Error(fmt::format("'{}' has a zone id, which is not supported", text));
  auto a = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return Error(fmt::format("'{}' is not an IP address", text));
  return a;
}

Status ValidateHostName(std::string_view text) {
  if (text.empty()) return Error("empty host name");
  std::string_view s = text;
  if (s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253)
    return Error(fmt::format("host name '{}' must be 1-253 characters long", text));
  bool all_numeric = true;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63)
      return Error(fmt::format("host name '{}' has an empty or over-long (>63) label", text));
    if (label.front() == '-' || label.back() == '-')
      return Error(fmt::format("host name '{}' has a label starting or ending with '-'", text));
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
      if (!ok) {
        const unsigned char u = static_cast<unsigned char>(c);
        return Error(u >= 0x20 && u < 0x7f
                         ? fmt::format("host name '{}' contains '{}'", text, c)
                         : fmt::format("host name contains the byte 0x{:02x}", u));
      }
    }
    if (!IsDigits(label)) all_numeric = false;
    start = dot + 1;
  }
  if (all_numeric) return Error(fmt::format("'{}' is not a valid IPv4 address", text));
  return Status::Ok();
}

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort hp;
  if (text.empty()) return Error("empty address");
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos)
      return Error(fmt::format("'{}' lacks the closing ']'", text));
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return Error(fmt::format("'{}' has no port", text));
    if (rest.front() != ':')
      return Error(fmt::format("'{}' has text after ']' that is not ':PORT'", text));
    port = rest.substr(1);
    auto ip = ParseIp(host);
    if (!ip.ok() || !ip->is_v6()) return Error(fmt::format("'{}' is not an IPv6 address", host));
    hp.is_ip = true;
    hp.ip = *ip;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error(fmt::format("'{}' has no port", text));
    if (text.find(':') != colon)
      return Error(fmt::format("'{}' looks like an IPv6 address without brackets", text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.empty()) return Error(fmt::format("'{}' has no host before ':'", text));
    if (auto ip = ParseIp(host); ip.ok()) {
      hp.is_ip = true;
      hp.ip = *ip;
    } else if (Status st = ValidateHostName(host); !st.ok()) {
      return st.error();
    }
  }
  auto p = ParsePort(port);
  if (!p.ok()) return p.error();
  hp.host = std::string(host);
  hp.port = *p;
  return hp;
}

Result<HostPort> ParseIpPort(std::string_view text, uint16_t default_port) {
  HostPort hp;
  if (auto ip = ParseIp(text); ip.ok()) {  // "1.2.3.4" or a bare "::1"
    hp.host = std::string(text);
    hp.ip = *ip;
    hp.is_ip = true;
    hp.port = default_port;
    return hp;
  }
  const bool bracketed = !text.empty() && text.front() == '[';
  if (!bracketed && text.find(':') == std::string_view::npos)
    return Error(fmt::format("'{}' is not an IP address", text));
  auto r = ParseHostPort(text);
  if (!r.ok()) return r.error();
  if (!r->is_ip) return Error(fmt::format("'{}' is a host name, not an IP address", r->host));
  return r;
}

std::string FormatEndpoint(const boost::asio::ip::address& ip, uint16_t port) {
  return ip.is_v6() ? fmt::format("[{}]:{}", ip.to_string(), port)
                    : fmt::format("{}:{}", ip.to_string(), port);
}

Result<std::vector<boost::asio::ip::address>> LookupHost(const std::string& host, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address instead of one per socket type
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) return Error(std::strerror(errno));
    return Error(::gai_strerror(rc));
  }
  std::vector<boost::asio::ip::address> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    boost::asio::ip::address a;
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(sockaddr_in)) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      boost::asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &sin->sin_addr, 4);
      a = boost::asio::ip::address_v4(b);
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(sockaddr_in6)) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      boost::asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sin6->sin6_addr, 16);
      a = boost::asio::ip::address_v6(b);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  ::freeaddrinfo(res);
  return out;
}

}  // namespace mamori::net
