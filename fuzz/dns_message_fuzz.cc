// libFuzzer target for the DNS reply parser: any byte string must parse or be
// rejected without crashing, and an accepted reply can hold no more addresses
// than its bytes could encode.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "mamori/probes/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> msg(data, size);
  for (uint16_t qtype : {mamori::dns::kTypeA, mamori::dns::kTypeAaaa}) {
    auto r = mamori::dns::ParseReply(msg, "www.example.org", qtype);
    if (!r.ok()) continue;
    if (r->addresses.size() * 14 > size) std::abort();  // >= 2+10+rdata bytes per record
    for (const auto& a : r->addresses)
      if (a.is_v4() != (qtype == mamori::dns::kTypeA)) std::abort();
    if (r->cname_chain.size() > 16) std::abort();
    (void)mamori::dns::RcodeText(r->rcode);
  }
  return 0;
}
