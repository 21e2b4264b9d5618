// libFuzzer entry point: arbitrary bytes, split into lines, through both the
// streaming and the batch miner with small limits so every bound is reached.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "mamori/logs/template_miner.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  mamori::logs::MinerOptions options;
  options.max_line_bytes = 512;
  options.max_tokens = 16;
  options.max_templates = 8;
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= input.size()) {
    std::size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) nl = input.size();
    lines.push_back(input.substr(pos, nl - pos));
    pos = nl + 1;
  }
  mamori::logs::TemplateMiner miner(options);
  for (std::string_view line : lines) {
    auto id = miner.Add(line);
    if (id != mamori::logs::TemplateMiner::kOverflowId && id >= options.max_templates) {
      __builtin_trap();
    }
    (void)miner.Template(id);
  }
  mamori::logs::BatchResult r = mamori::logs::MineBatch(lines, options);
  if (r.line_template.size() != lines.size()) __builtin_trap();
  for (auto id : r.line_template) {
    if (id != mamori::logs::TemplateMiner::kOverflowId && id >= r.templates.size()) {
      __builtin_trap();
    }
  }
  // One id per template text.
  std::set<std::string_view> texts(r.templates.begin(), r.templates.end());
  if (texts.size() != r.templates.size()) __builtin_trap();
  return 0;
}
