// Fuzzes what `mamori diagnose` and the log check do with outside log lines:
// the timestamp parser and the Diagnoser (signature scan with captures,
// boot/shutdown correlation, mentions, novel templates) over the shipped
// knowledge base. Any bytes, split into lines across two sources, must give
// a bounded report, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "mamori/logs/diagnose.h"
#include "mamori/logs/rule_loader.h"
#include "mamori/logs/signature_scanner.h"
#include "mamori_source_dir.h"

namespace {

const mamori::logs::SignatureScanner* Scanner() {
  // Compiled once: the rules are fixed input, the lines are fuzzed.
  static const std::unique_ptr<mamori::logs::SignatureScanner> scanner = [] {
    auto rules = mamori::logs::LoadRules({std::string(MAMORI_SOURCE_DIR) + "/rules"});
    if (!rules.ok()) __builtin_trap();
    auto s = mamori::logs::SignatureScanner::Compile(std::move(rules).value());
    if (!s.ok()) __builtin_trap();
    return std::move(s).value();
  }();
  return scanner.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mamori;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const WallTime now = FromUnixMillis(1763900000000);
  logs::DiagnoserOptions opt;
  opt.now = now;
  opt.max_evidence = 3;
  logs::Diagnoser d(*Scanner(), opt);
  d.BeginSource(size % 2 ? "/var/log/messages" : "/var/log/maillog");
  uint64_t number = 0;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(start, end - start);
    (void)logs::ParseLogTime(line, now);
    d.AddLine(++number, line);
    if (number == 64) d.BeginSource("/var/log/syslog");
    start = end + 1;
  }
  logs::DiagnoseReport r = d.Finish();
  for (const auto& f : r.findings)
    if (f.evidence.size() > opt.max_evidence) __builtin_trap();
  if (r.novel.size() > opt.max_novel) __builtin_trap();
  return 0;
}
