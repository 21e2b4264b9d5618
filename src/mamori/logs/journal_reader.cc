#include "mamori/logs/journal_reader.h"

#include <dirent.h>
#include <systemd/sd-journal.h>

#include <fmt/format.h>

#include <cstring>
#include <filesystem>

namespace mamori::logs {
namespace {

Error SdError(std::string_view what, int rc) {
  return Error(fmt::format("{}: {}", what, std::strerror(-rc)));
}

bool HasJournalFiles(const std::string& dir, int depth = 0) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  for (int n = 0; !ec && it != end && n < 1000; it.increment(ec), ++n) {
    const auto& p = it->path();
    if (p.extension() == ".journal" || p.extension() == ".journal~") return true;
    if (depth == 0 && it->is_directory(ec) && HasJournalFiles(p.string(), 1)) return true;
  }
  return false;
}

std::string Field(sd_journal* j, const char* name, size_t max) {
  const void* data = nullptr;
  size_t len = 0;
  if (sd_journal_get_data(j, name, &data, &len) < 0) return "";
  std::string_view v(static_cast<const char*>(data), len);
  size_t eq = v.find('=');
  if (eq == std::string_view::npos) return "";
  v.remove_prefix(eq + 1);
  if (v.size() > max) v = v.substr(0, max);
  return std::string(v);
}

}  // namespace

std::optional<std::string> JournalAbsentReason(const std::string& root) {
  if (HasJournalFiles(root + "/run/log/journal") || HasJournalFiles(root + "/var/log/journal"))
    return std::nullopt;
  return std::string(
      "no systemd journal on this machine: neither /run/log/journal nor /var/log/journal holds "
      "journal files (systemd-journald is not running here)");
}

Result<std::unique_ptr<JournalReader>> JournalReader::OpenLocal() {
  if (auto why = JournalAbsentReason()) return Error(*why);
  sd_journal* j = nullptr;
  int rc = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
  if (rc < 0) return SdError("opening the systemd journal", rc);
  return std::unique_ptr<JournalReader>(new JournalReader(j));
}

Result<std::unique_ptr<JournalReader>> JournalReader::OpenDirectory(const std::string& dir) {
  sd_journal* j = nullptr;
  int rc = sd_journal_open_directory(&j, dir.c_str(), 0);
  if (rc < 0) return SdError("opening the journal in " + dir, rc);
  return std::unique_ptr<JournalReader>(new JournalReader(j));
}

JournalReader::~JournalReader() {
  if (j_) sd_journal_close(j_);
}

Status JournalReader::MatchUnits(const std::vector<std::string>& units) {
  for (size_t i = 0; i < units.size(); ++i) {
    if (i > 0) {
      int rc = sd_journal_add_disjunction(j_);
      if (rc < 0) return SdError("journal match", rc);
    }
    std::string m = "_SYSTEMD_UNIT=" + units[i];
    int rc = sd_journal_add_match(j_, m.data(), m.size());
    if (rc < 0) return SdError("journal match " + m, rc);
  }
  return Status::Ok();
}

Status JournalReader::SeekSince(WallTime since) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(since.time_since_epoch());
  int rc =
      sd_journal_seek_realtime_usec(j_, static_cast<uint64_t>(std::max<int64_t>(0, us.count())));
  if (rc < 0) return SdError("seeking the journal", rc);
  skip_one_ = false;
  return Status::Ok();
}

Status JournalReader::SeekAfterCursor(const std::string& cursor) {
  int rc = sd_journal_seek_cursor(j_, cursor.c_str());
  if (rc < 0) return SdError("seeking the journal to a saved cursor", rc);
  skip_one_ = true;
  expect_cursor_ = cursor;
  cursor_ = cursor;
  return Status::Ok();
}

Status JournalReader::SeekTail() {
  int rc = sd_journal_seek_tail(j_);
  if (rc < 0) return SdError("seeking the journal tail", rc);
  // After seek_tail, next() would return nothing; step back onto the last
  // entry and skip it, so the next Read() starts with what comes after.
  rc = sd_journal_previous(j_);
  if (rc < 0) return SdError("seeking the journal tail", rc);
  skip_one_ = false;
  if (rc > 0) {
    char* c = nullptr;
    if (sd_journal_get_cursor(j_, &c) >= 0 && c) {
      cursor_ = c;
      free(c);
    }
  }
  return Status::Ok();
}

Result<size_t> JournalReader::Read(size_t max,
                                   const std::function<void(const JournalEntry&)>& sink) {
  size_t n = 0;
  while (n < max) {
    int rc = sd_journal_next(j_);
    if (rc < 0) return SdError("reading the journal", rc);
    if (rc == 0) break;
    char* c = nullptr;
    std::string cursor;
    if (sd_journal_get_cursor(j_, &c) >= 0 && c) {
      cursor = c;
      free(c);
    }
    if (skip_one_) {
      skip_one_ = false;
      // The first entry after seek_cursor is the cursor's own entry when it
      // still exists; it was read before.
      if (sd_journal_test_cursor(j_, expect_cursor_.c_str()) > 0) continue;
    }
    JournalEntry e;
    uint64_t usec = 0;
    if (sd_journal_get_realtime_usec(j_, &usec) >= 0)
      e.time =
          WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(usec)));
    e.unit = Field(j_, "_SYSTEMD_UNIT", 256);
    e.identifier = Field(j_, "SYSLOG_IDENTIFIER", 256);
    e.message = Field(j_, "MESSAGE", kMaxMessageBytes);
    std::string pid = Field(j_, "_PID", 32);
    if (pid.empty()) pid = Field(j_, "SYSLOG_PID", 32);
    e.pid = std::strtoll(pid.c_str(), nullptr, 10);
    std::string prio = Field(j_, "PRIORITY", 4);
    if (!prio.empty()) e.priority = std::atoi(prio.c_str());
    e.cursor = cursor;
    cursor_ = cursor;
    sink(e);
    ++n;
  }
  return n;
}

}  // namespace mamori::logs
