#include "mamori/web/local_caller.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <string>

namespace mamori::web {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "host", "host:port", "[v6]" or "[v6]:port" -> the host part.
std::string_view StripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(1, close - 1);
  }
  // More than one colon: a bare IPv6 literal, no port.
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos)
    return host.substr(0, colon);
  return host;
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// "http://127.0.0.1:8470" -> "127.0.0.1:8470"; nothing for "null" or junk.
std::string_view OriginHost(std::string_view origin) {
  const size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = origin.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

std::string ThisHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

}  // namespace

bool IsLocalHostName(std::string_view host, std::string_view hostname) {
  std::string name = Lower(StripPort(host));
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty()) return false;
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  if (!ec) return true;  // an IP literal cannot be re-pointed by DNS
  if (name == "localhost" || EndsWith(name, ".localhost")) return true;
  return !hostname.empty() && name == Lower(hostname);
}

bool IsLocalCaller(const Request& req, std::string_view hostname) {
  if (!req.peer.is_loopback() || !req.forwarded_for.empty()) return false;
  if (!req.host.empty() && !IsLocalHostName(req.host, hostname)) return false;
  if (req.origin.empty()) return true;
  // Same origin only: a page of another local web app (a dev server on
  // localhost:3000) is as foreign as any other site.
  const std::string_view origin_host = OriginHost(req.origin);
  return !origin_host.empty() && IsLocalHostName(origin_host, hostname) &&
         (req.host.empty() || Lower(origin_host) == Lower(req.host));
}

bool IsLocalCaller(const Request& req) {
  // The name does not change while the daemon runs (a rename takes effect at
  // the next start), and a lookup per request would be a system call each.
  static const std::string hostname = ThisHostName();
  return IsLocalCaller(req, hostname);
}

}  // namespace mamori::web
