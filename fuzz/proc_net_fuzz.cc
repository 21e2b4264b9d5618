// libFuzzer target for the /proc/net/tcp parser: any byte string must parse
// without crashing, with every accepted entry's port and state in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mamori/probes/proc_net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool ipv6 : {false, true}) {
    auto table = mamori::procnet::ParseTcpTable(text, ipv6, 1000);
    for (const auto& e : table.entries) {
      if (e.state < 0 || e.state > 0xff || e.ipv6 != ipv6) std::abort();
      (void)e.LocalAddress();
    }
  }
  return 0;
}
