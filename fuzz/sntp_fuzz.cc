// Fuzzes the SNTP reply parser: whatever a server (or anyone spoofing one)
// sends must be accepted or refused without crashing, and an accepted reply
// must answer our request and carry a time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "mamori/probes/sntp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mamori::sntp;
  const NtpTimestamp sent = size >= 8 ? 0 : 1;
  auto r = ParseReply(std::span<const uint8_t>(data, size), sent);
  if (!r.ok()) return 0;
  if (r->originate != sent || r->transmit == 0 || r->stratum == 0) std::abort();
  if (r->leap < 0 || r->leap > 3) std::abort();
  (void)Compute(*r, FromNtp(sent), FromNtp(r->transmit));
  return 0;
}
