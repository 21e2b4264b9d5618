#include "mamori/host/kernel_journal.h"

#include <systemd/sd-journal.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <memory>

namespace mamori::host::kernel {
namespace {

struct JournalCloser {
  void operator()(sd_journal* j) const { sd_journal_close(j); }
};

bool OomLine(std::string_view m) {
  return m.find("Killed process ") != std::string_view::npos ||
         m.find("oom-kill:") != std::string_view::npos;
}

Result<bool> Match(sd_journal* j, const std::string& m) {
  if (int rc = sd_journal_add_match(j, m.data(), m.size()); rc < 0)
    return Error(fmt::format("matching {}: {}", m, std::strerror(-rc)));
  return true;
}

}  // namespace

Result<std::vector<std::string>> ReadKernelOomLines(const JournalQuery& q, MonoTime deadline,
                                                    bool* truncated) {
  *truncated = false;
  sd_journal* raw = nullptr;
  int rc = q.dir.empty() ? sd_journal_open(&raw, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)
                         : sd_journal_open_directory(&raw, q.dir.c_str(), 0);
  if (rc < 0) return Error(fmt::format("opening the journal: {}", std::strerror(-rc)));
  std::unique_ptr<sd_journal, JournalCloser> j(raw);
  if (auto m = Match(raw, "_TRANSPORT=kernel"); !m.ok()) return m.error();
  if (!q.boot_id.empty()) {
    std::string id;
    for (char c : q.boot_id)
      if (c != '-') id.push_back(c);
    if (auto m = Match(raw, "_BOOT_ID=" + id); !m.ok()) return m.error();
  }
  // A kernel line is short; the rest of a long one is not needed to name
  // the process.
  sd_journal_set_data_threshold(raw, 4096);
  std::vector<std::string> lines;
  if ((rc = sd_journal_seek_tail(raw)) < 0)
    return Error(fmt::format("seeking the journal: {}", std::strerror(-rc)));
  for (size_t seen = 0;; ++seen) {
    if (seen >= q.max_entries || std::chrono::steady_clock::now() >= deadline) {
      *truncated = true;
      break;
    }
    if ((rc = sd_journal_previous(raw)) <= 0) break;
    const void* data = nullptr;
    size_t len = 0;
    if (sd_journal_get_data(raw, "MESSAGE", &data, &len) < 0 || len < 8) continue;
    std::string_view m(static_cast<const char*>(data) + 8, len - 8);  // "MESSAGE="
    if (OomLine(m)) lines.emplace_back(m);
  }
  if (rc < 0) return Error(fmt::format("reading the journal: {}", std::strerror(-rc)));
  return lines;
}

std::string CurrentBootId(const std::string& proc_root) {
  std::ifstream in(proc_root + "/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace mamori::host::kernel
