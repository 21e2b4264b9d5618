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
  std::string target;         // path and query, always starting with '/'
  bool ipv6 = false;          // the host is a bracketed IPv6 literal
  bool port_written = false;  // the URL names its port, even the default one
  std::string fragment;       // after '#', never sent; kept for EffectiveUrl()

  // "host", "host:8080", "[::1]:8080": the Host header and the URL authority.
  std::string Authority() const;
  std::string ToString() const { return "http://" + Authority() + target; }
  // The URL as libcurl reports it back (CURLINFO_EFFECTIVE_URL), so a check's
  // effective_url does not depend on which client fetched it: the scheme in
  // lower case, the host as written, the port when one was written (":80"
  // too, without leading zeros), the target as sent, a non-empty fragment.
  std::string EffectiveUrl() const;
};

// The URL when it is an http:// URL of the subset above; nullopt otherwise
// (https://, other schemes, or a form better left to libcurl). As libcurl:
// "." and ".." segments are removed from the path (not from the query), and
// an IPv6 literal is written in its shortest form when that is shorter.
std::optional<HttpUrl> ParseHttpUrl(std::string_view url);

// The absolute URL a Location header points to, seen from `base`: absolute
// ones as they are, "//host/x" with base's scheme, "/x", "?q" and relative
// paths (with "." and ".." segments removed) against base. As libcurl
// follows it: spaces are sent as %20 (as '+' after a '?') and bytes above
// 0x7f as %xx, in the fragment too, which is kept. nullopt for an empty
// Location (the 3xx is the answer) or one with a control byte (see
// LocationRefusal).
std::optional<std::string> ResolveLocation(const HttpUrl& base, std::string_view location);

// Why libcurl refuses to follow `location`, as the end of its error text
// ("Bad path", "Bad query" or "Bad fragment": the part holding a control
// byte); empty when it has no control byte.
std::string LocationRefusal(std::string_view location);

}  // namespace mamori
