// libFuzzer target for config::Yaml::Parse, the reader of every
// configuration and rule file: any text gives a document or a syntax error,
// never a crash, and every view of the document can be read. The walk is
// bounded by a visit budget, because aliases make a document a graph whose
// paths can grow exponentially ("billion laughs") while its nodes do not.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "mamori/config/yaml.h"

namespace {

void Walk(const mamori::config::Yaml& y, int depth, int& budget) {
  if (--budget < 0 || depth > 64) return;
  (void)y.Scalar().size();
  (void)y.Tag().size();
  (void)y.Mark();
  (void)y[std::string_view("name")].IsDefined();
  (void)y[size_t{0}].IsDefined();
  for (const auto& entry : y) {
    if (y.IsMap()) {
      Walk(entry.first, depth + 1, budget);
      Walk(entry.second, depth + 1, budget);
    } else {
      Walk(entry, depth + 1, budget);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed =
      mamori::config::Yaml::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (const auto* doc = std::get_if<mamori::config::Yaml>(&parsed)) {
    int budget = 100000;
    Walk(*doc, 0, budget);
  }
  return 0;
}
