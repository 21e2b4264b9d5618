// HttpUrl: the plain http:// URLs the native HTTP client fetches, and the
// resolution of a redirect's Location against the URL that answered.
//
// Hand-written because the Boost in Debian 12 (1.74) has no Boost.URL and the
// client needs only a strict subset: anything outside it (userinfo, percent
// signs or non-ASCII in the host, spaces, an empty port) is not an error here
// but "not mine": the router then gives the request to libcurl, which keeps
// its long-standing behaviour for odd URLs. Pure functions, thread-safe;
// fuzzed by fuzz/http_url_fuzz.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mamori {

struct HttpUrl {
  std::string host;  // without brackets for an IPv6 literal
  uint16_t port = 80;
  std::string target;  // path and query, always starting with '/'
  bool ipv6 = false;   // the host is a bracketed IPv6 literal

  // "host", "host:8080", "[::1]:8080": the Host header and the URL authority.
  std::string Authority() const;
  std::string ToString() const { return "http://" + Authority() + target; }
};

// The URL when it is an http:// URL of the subset above; nullopt otherwise
// (https://, other schemes, or a form better left to libcurl).
std::optional<HttpUrl> ParseHttpUrl(std::string_view url);

// The absolute URL a Location header points to, seen from `base`: absolute
// ones as they are, "//host/x" with base's scheme, "/x", "?q" and relative
// paths (with "." and ".." segments removed) against base. The fragment is
// dropped. nullopt for an empty or unprintable Location.
std::optional<std::string> ResolveLocation(const HttpUrl& base, std::string_view location);

}  // namespace mamori
