#include "mamori/net/http_url.h"

#include <arpa/inet.h>

#include <charconv>
#include <vector>

namespace mamori {
namespace {

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Printable ASCII without spaces: what may go on the request line unchanged.
bool IsTargetChar(char c) { return c > 0x20 && c < 0x7f; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool ParseHost(std::string_view authority, HttpUrl& out, std::string_view& rest) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(authority.substr(1, close - 1));
    in6_addr addr{};
    if (::inet_pton(AF_INET6, out.host.c_str(), &addr) != 1) return false;
    // As libcurl: the shortest form, only where it is shorter than as written.
    char shortest[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(AF_INET6, &addr, shortest, sizeof shortest) &&
        std::string_view(shortest).size() < out.host.size())
      out.host = shortest;
    out.ipv6 = true;
    rest = authority.substr(close + 1);
    return true;
  }
  const size_t colon = authority.find(':');
  out.host = std::string(authority.substr(0, colon));
  rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  if (out.host.empty()) return false;
  for (char c : out.host)
    if (!IsHostChar(c)) return false;
  return true;
}

bool ParsePort(std::string_view rest, uint16_t& port) {
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), value);
  if (ec != std::errc() || end != rest.data() + rest.size() || value == 0 || value > 65535)
    return false;
  port = static_cast<uint16_t>(value);
  return true;
}

// RFC 3986 5.2.4 on a path (no query).
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> kept;
  size_t start = 1;  // path starts with '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    const bool last = end == path.size();
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
      if (last) kept.emplace_back();
    } else if (seg == ".") {
      if (last) kept.emplace_back();
    } else {
      kept.push_back(seg);
    }
    start = end + 1;
  }
  std::string out;
  for (auto seg : kept) {
    out += '/';
    out += seg;
  }
  return out.empty() ? "/" : out;
}

// The target as libcurl sends it: '/' before a bare query, dot segments
// removed from the path.
std::string NormalTarget(std::string_view target) {
  const std::string path = target.empty() || target.front() == '?'
                               ? "/"
                               : std::string(target.substr(0, target.find('?')));
  const size_t query = target.find('?');
  return RemoveDotSegments(path) +
         std::string(query == std::string_view::npos ? std::string_view() : target.substr(query));
}

bool AllTargetChars(std::string_view s) {
  for (char c : s)
    if (!IsTargetChar(c)) return false;
  return true;
}

// A Location as libcurl 7.88 follows it (urlapi.c, urlencode_str): a space
// becomes %20 before the query and '+' in it, a byte above 0x7f becomes %xx;
// a control byte makes it unusable.
std::optional<std::string> EncodeLocation(std::string_view location) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(location.size());
  bool query = false;
  for (char ch : location) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return std::nullopt;
    query |= c == '?';
    if (c == ' ') {
      out += query ? "+" : "%20";
    } else if (c > 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string Origin(const HttpUrl& u) {
  return "http://" + (u.ipv6 ? "[" + u.host + "]" : u.host) +
         (u.port_written ? ":" + std::to_string(u.port) : "");
}

}  // namespace

std::string HttpUrl::Authority() const {
  std::string a = ipv6 ? "[" + host + "]" : host;
  if (port != 80) a += ":" + std::to_string(port);
  return a;
}

std::string HttpUrl::EffectiveUrl() const {
  return Origin(*this) + target + (fragment.empty() ? "" : "#" + fragment);
}

std::optional<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!StartsWithNoCase(url, kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  std::string_view fragment;
  if (const size_t hash = url.find('#'); hash != std::string_view::npos) {
    fragment = url.substr(hash + 1);
    url = url.substr(0, hash);
  }
  const size_t end = url.find_first_of("/?");
  const std::string_view authority = url.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view() : url.substr(end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  HttpUrl out;
  std::string_view port;
  if (!ParseHost(authority, out, port) || !ParsePort(port, out.port)) return std::nullopt;
  if (!AllTargetChars(target) || !AllTargetChars(fragment)) return std::nullopt;
  out.port_written = !port.empty();
  out.target = NormalTarget(target);
  out.fragment = std::string(fragment);
  return out;
}

namespace {

std::string_view TrimLocation(std::string_view location) {
  while (!location.empty() && (location.front() == ' ' || location.front() == '\t'))
    location.remove_prefix(1);
  while (!location.empty() && (location.back() == ' ' || location.back() == '\t'))
    location.remove_suffix(1);
  return location;
}

}  // namespace

std::string LocationRefusal(std::string_view location) {
  location = TrimLocation(location);
  const size_t query = location.find('?'), hash = location.find('#');
  for (size_t i = 0; i < location.size(); ++i) {
    const auto c = static_cast<unsigned char>(location[i]);
    if (c >= 0x20 && c != 0x7f) continue;
    if (hash != std::string_view::npos && i > hash) return "Bad fragment";
    if (query != std::string_view::npos && i > query) return "Bad query";
    return "Bad path";
  }
  return "";
}

std::optional<std::string> ResolveLocation(const HttpUrl& base, std::string_view location) {
  location = TrimLocation(location);
  const auto encoded = EncodeLocation(location);
  if (!encoded) return std::nullopt;
  location = *encoded;
  std::string fragment;
  if (const size_t hash = location.find('#'); hash != std::string_view::npos) {
    if (hash + 1 < location.size()) fragment = std::string(location.substr(hash));
    location = location.substr(0, hash);
  }
  if (location.empty()) return std::nullopt;
  // A scheme: letters, digits, '+', '-', '.' before the first ':' (RFC 3986 3.1).
  const size_t colon = location.find(':');
  const size_t slash = location.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 &&
      (slash == std::string_view::npos || colon < slash)) {
    bool scheme = true;
    for (char c : location.substr(0, colon)) scheme &= IsHostChar(c) || c == '+';
    if (scheme) return std::string(location) + fragment;
  }
  if (location.substr(0, 2) == "//") return "http:" + std::string(location) + fragment;
  const std::string origin = Origin(base);
  const std::string_view base_target = base.target;
  const std::string_view base_path = base_target.substr(0, base_target.find('?'));
  std::string joined;
  if (location.front() == '/') {
    joined = std::string(location);
  } else if (location.front() == '?') {
    joined = std::string(base_path) + std::string(location);
  } else {
    joined = std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(location);
  }
  const size_t query = joined.find('?');
  const std::string path = RemoveDotSegments(std::string_view(joined).substr(0, query));
  return origin + path + (query == std::string::npos ? "" : joined.substr(query)) + fragment;
}

}  // namespace mamori
