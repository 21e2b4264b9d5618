// `mamori logs scan`: matches every line of the given files against the whole
// signature knowledge base and prints the matches, or with --count how many
// lines matched each signature.
//
// Files are read through LineReader (plain or gzip, bounded line length), so
// memory stays bounded whatever the input. Exit status: 0 when nothing of
// warning or critical severity matched, 1 for warnings, 2 for critical
// matches, 3 when the rules or a file could not be read (the other files are
// still scanned). Stateless; thread-safe as long as the streams are not shared.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mamori::logs {

struct ScanOptions {
  std::vector<std::string> files;
  std::vector<std::string> rule_dirs;  // empty: DefaultRuleSources()
  bool count = false;
  // Prints the knowledge base's patterns, one per line, in POSIX ERE form for
  // `grep -E -f` (benchmarks compare against grep with the same patterns).
  bool export_patterns = false;
  size_t max_line_bytes = 64 * 1024;
  size_t max_matches = 0;  // stop printing after this many matches (0: no limit)
  // Where the compiled database is cached (scanner_cache.h); nullopt: the
  // default cache directory, "": no cache.
  std::optional<std::string> cache_dir;
};

// Registers `scan` under `logs` with its options bound to `options`.
CLI::App* AddScanSubcommand(CLI::App* logs, ScanOptions* options);

int RunScanCommand(const ScanOptions& options, std::ostream& out, std::ostream& err);

// A Hyperscan/PCRE pattern rewritten for POSIX ERE (GNU grep -E): \d becomes
// [0-9] and (?: becomes (. Patterns are written in the common subset
// otherwise (see docs/rules.md).
std::string ToPosixEre(const std::string& pattern);

}  // namespace mamori::logs
