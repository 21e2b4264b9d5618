// ParseHttpUrl and ResolveLocation on arbitrary bytes: a URL from a config
// file and a Location from any server. The input's first line is the base
// URL, the rest the Location; whatever parses must print back (ToString and
// EffectiveUrl) to a URL that parses to the same parts, and a resolved
// Location holds no space, control or non-ASCII byte (they are
// percent-encoded or the Location is refused), and one LocationRefusal names
// is never resolved.
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
  auto effective = mamori::ParseHttpUrl(base->EffectiveUrl());
  if (!effective || effective->host != base->host || effective->port != base->port ||
      effective->target != base->target || effective->fragment != base->fragment ||
      effective->EffectiveUrl() != base->EffectiveUrl())
    std::abort();
  if (nl == std::string_view::npos) return 0;
  const std::string_view location = in.substr(nl + 1);
  const bool refused = !mamori::LocationRefusal(location).empty();
  auto next = mamori::ResolveLocation(*base, location);
  if (refused && next) std::abort();
  if (next) {
    if (auto parsed = mamori::ParseHttpUrl(*next); parsed && parsed->target.empty()) std::abort();
    for (char c : *next)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        std::abort();
  }
  return 0;
}
