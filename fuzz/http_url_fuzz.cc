// ParseHttpUrl and ResolveLocation on arbitrary bytes: a URL from a config
// file and a Location from any server. The input's first line is the base
// URL, the rest the Location; whatever parses must print back to a URL that
// parses to the same parts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mamori/net/http_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view first = in.substr(0, nl);
  auto base = mamori::ParseHttpUrl(first);
  if (!base) return 0;
  auto again = mamori::ParseHttpUrl(base->ToString());
  if (!again || again->host != base->host || again->port != base->port ||
      again->target != base->target)
    std::abort();
  if (nl == std::string_view::npos) return 0;
  if (auto next = mamori::ResolveLocation(*base, in.substr(nl + 1))) {
    if (auto parsed = mamori::ParseHttpUrl(*next); parsed && parsed->target.empty()) std::abort();
  }
  return 0;
}
