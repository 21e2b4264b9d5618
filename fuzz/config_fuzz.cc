// Fuzzes configuration loading end to end: YAML parsing, the config node
// getters, unit parsers and every check type's factory. Whatever a user
// writes must come back as a Config or as diagnostics, never as a crash or an
// escaping exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mamori/daemon/config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  mamori::ConfigLoad load = mamori::LoadConfigText(text, "fuzz.yaml");
  (void)load.diagnostics.ToString();
  return 0;
}
