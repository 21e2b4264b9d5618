// Fuzzes the Nagios plugin output parser: any bytes a plugin prints must parse
// without crashing, within the documented bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mamori/probes/perfdata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto out = mamori::probes::ParsePluginOutput(text);
  if (out.perfdata.size() > mamori::probes::kMaxPerfData) std::abort();
  for (const auto& d : out.perfdata) {
    if (d.label.empty() || d.label.size() > mamori::probes::kMaxLabel) std::abort();
    if (out.summary.find('\n') != std::string::npos) std::abort();
  }
  if (out.summary.size() + out.long_text.size() > size) std::abort();
  return 0;
}
