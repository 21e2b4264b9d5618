#include "mamori/logs/scan_command.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "mamori/logs/line_reader.h"
#include "mamori/logs/rule_loader.h"
#include "mamori/logs/scanner_cache.h"
#include "mamori/logs/signature_scanner.h"
#include "mamori/util/progress.h"

namespace mamori::logs {
namespace {

// For the progress line; 0 (unknown) for standard input or a pipe.
uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto size = path == "-" ? 0 : std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

constexpr int kExitOk = 0, kExitWarning = 1, kExitCritical = 2, kExitUnknown = 3;

int ExitFor(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return kExitCritical;
    case Severity::kWarning:
      return kExitWarning;
    case Severity::kInfo:
      return kExitOk;
  }
  return kExitOk;
}

// Keeps control characters and invalid bytes out of the terminal.
std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
    unsigned char c = s[i];
    if (c == '\t' || (c >= 0x20 && c != 0x7f))
      out += static_cast<char>(c);
    else
      out += fmt::format("\\x{:02x}", c);
  }
  if (out.size() >= max) out += "...";
  return out;
}

}  // namespace

std::string ToPosixEre(const std::string& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      if (p[i + 1] == 'd') {
        out += "[0-9]";
      } else {
        out += p[i];
        out += p[i + 1];
      }
      ++i;
    } else if (p.compare(i, 3, "(?:") == 0) {
      out += '(';
      i += 2;
    } else {
      out += p[i];
    }
  }
  return out;
}

CLI::App* AddScanSubcommand(CLI::App* logs, ScanOptions* o) {
  auto* scan = logs->add_subcommand(
      "scan", "Match log lines against the signature knowledge base and explain what matched");
  scan->add_option("files", o->files, "Log files (plain or .gz; - for standard input)");
  scan->add_flag("--count", o->count, "Print how many lines matched each signature");
  scan->add_option("--rules", o->rule_dirs,
                   "Rule directory or file, or @builtin for the shipped rules (repeatable; "
                   "default: the shipped rules, then /etc/mamori/rules.d)")
      ->allow_extra_args(false);
  scan->add_option("--max-line", o->max_line_bytes, "Cut longer lines (bytes, default 65536)");
  scan->add_option("--max-matches", o->max_matches, "Print at most this many matches");
  scan->add_option("--cache-dir", o->cache_dir,
                   "Keep the compiled signatures here (default: $MAMORI_CACHE_DIR, "
                   "$XDG_CACHE_HOME/mamori or ~/.cache/mamori; \"\" for none)");
  scan->add_flag("--export-patterns", o->export_patterns)->group("");
  return scan;
}

int RunScanCommand(const ScanOptions& o, std::ostream& out, std::ostream& err) {
  auto rules = LoadRules(o.rule_dirs);
  if (!rules.ok()) {
    err << rules.error().message() << "\n";
    return kExitUnknown;
  }
  if (o.export_patterns) {
    for (const auto& s : rules->signatures)
      for (const auto& p : s.patterns) out << ToPosixEre(p) << "\n";
    return kExitOk;
  }
  if (o.files.empty()) {
    err << "logs scan: no files given\n";
    return kExitUnknown;
  }
  auto scanner =
      SignatureScanner::Compile(std::move(*rules), o.cache_dir.value_or(DefaultScannerCacheDir()));
  if (!scanner.ok()) {
    err << scanner.error().message() << "\n";
    return kExitUnknown;
  }
  const SignatureScanner& sc = **scanner;
  ScanSession session(sc);
  LineReaderOptions ro;
  ro.max_line_bytes = std::max<size_t>(o.max_line_bytes, 1);
  std::vector<uint64_t> counts(sc.rules().signatures.size());
  uint64_t lines = 0, matched = 0, truncated = 0, invalid = 0, printed = 0;
  int rc = kExitOk;
  bool read_error = false;
  std::vector<uint32_t> ids;
  std::string buf;
  const SystemClock clock;
  Progress progress("", 0, clock, STDERR_FILENO);
  for (const auto& file : o.files) {
    auto reader = LineReader::Open(file, ro);
    if (!reader.ok()) {
      err << "logs scan: " << reader.error().message() << "\n";
      read_error = true;
      continue;
    }
    LineReader& r = **reader;
    progress.Restart("scan " + file, FileSize(file));
    Line line;
    while (r.Next(&line)) {
      if ((line.number & 0xfff) == 0) progress.Update(r.bytes_read());
      session.MatchIds(line.text, &ids);
      if (ids.empty()) continue;
      ++matched;
      for (uint32_t id : ids) {
        ++counts[id];
        rc = std::max(rc, ExitFor(sc.signature(id).severity));
        if (o.count || (o.max_matches && printed >= o.max_matches)) continue;
        ++printed;
        const Signature& s = sc.signature(id);
        buf += fmt::format("{}:{}: {} {}: {}\n", file, line.number, SeverityName(s.severity), s.id,
                           Printable(sc.Summary(id, line.text), 400));
        buf += "    " + Printable(line.text, 400) + "\n";
        if (buf.size() > (1 << 16)) {
          out << buf;
          buf.clear();
        }
      }
    }
    if (!r.status().ok()) {
      err << "logs scan: " << r.status().error().message() << "\n";
      read_error = true;
    }
    lines += r.lines();
    truncated += r.truncated_lines();
    invalid += r.invalid_utf8_lines();
  }
  progress.Clear();
  out << buf;
  if (o.count) {
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < counts.size(); ++i)
      if (counts[i]) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return counts[a] != counts[b] ? counts[a] > counts[b]
                                    : sc.signature(a).id < sc.signature(b).id;
    });
    for (uint32_t i : order)
      out << fmt::format("{:>10} {:<8} {}\n", counts[i], SeverityName(sc.signature(i).severity),
                         sc.signature(i).id);
  }
  out << fmt::format("{} lines, {} matched, {} truncated, {} not UTF-8\n", lines, matched,
                     truncated, invalid);
  if (session.errors()) err << fmt::format("logs scan: {} scan errors\n", session.errors());
  return read_error ? kExitUnknown : rc;
}

}  // namespace mamori::logs
