// Fuzzes the ping URL parser: any request target a client sends must parse or
// be refused without crashing, and what it accepts must be what the store and
// the router expect (a lower-case UUID or a slug, an exit code 0-255, a UUID
// run id).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mamori/heartbeat/ping.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mamori::heartbeat;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = ParsePingTarget(text);
  if (!r.ok()) return 0;
  const PingTarget& t = *r;
  if (t.uuid.empty() == t.slug.empty()) std::abort();
  if (!t.uuid.empty() && !IsUuid(t.uuid)) std::abort();
  for (char c : t.uuid)
    if (c >= 'A' && c <= 'F') std::abort();
  if (!t.slug.empty() && !IsSlug(t.slug)) std::abort();
  if (!t.rid.empty() && !IsUuid(t.rid)) std::abort();
  if (t.exit_code < -1 || t.exit_code > 255) std::abort();
  if (t.key.find('/') != std::string::npos || t.key.find('.') != std::string::npos) std::abort();
  return 0;
}
