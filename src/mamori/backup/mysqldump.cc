#include "mamori/backup/mysqldump.h"

#include <fmt/format.h>

#include "mamori/util/units.h"

namespace mamori::backup {
namespace {

std::string Field(std::string_view text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return "";
  auto rest = text.substr(at + key.size());
  rest = rest.substr(0, rest.find('\n'));
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
  return std::string(rest);
}

}  // namespace

std::string VerifyMysqlDump(const HeadTail& text, Findings* findings) {
  const std::string_view head = text.head();
  const bool mariadb = head.substr(0, 1024).find("-- MariaDB dump") != std::string_view::npos;
  const std::string tool = mariadb ? "mariadb-dump" : "mysqldump";
  std::string server = Field(head, "-- Server version");
  std::string host_line = Field(head, "-- Host:");
  std::string database;
  if (auto at = host_line.find("Database:"); at != std::string::npos) {
    database = host_line.substr(at + 9);
    while (!database.empty() && database.front() == ' ') database.erase(0, 1);
  }
  auto& d = findings->details;
  d["tool"] = tool;
  d["uncompressed_bytes"] = text.total();
  if (!server.empty()) d["server_version"] = server;
  if (!database.empty()) d["database"] = database;

  const std::string_view tail = text.tail();
  const auto at = tail.rfind("-- Dump completed");
  bool complete = at != std::string_view::npos;
  std::string completed;
  if (complete) {
    auto rest = tail.substr(at);
    const auto nl = rest.find('\n');
    completed = std::string(rest.substr(0, nl));
    // Nothing but blank lines may follow the trailer.
    for (char c : nl == std::string_view::npos ? std::string_view() : rest.substr(nl))
      if (c != '\n' && c != '\r' && c != ' ') complete = false;
  }
  if (!complete) {
    std::string_view t = tail;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
    const auto nl = t.rfind('\n');
    findings->Add(CheckStatus::kCritical,
                  fmt::format("{} output incomplete: trailer '-- Dump completed' missing; it ends "
                              "at byte {} with '{}'",
                              tool, text.total(),
                              Excerpt(nl == std::string_view::npos ? t : t.substr(nl + 1), 80)));
    return "";
  }
  std::string when;
  if (auto on = completed.find(" on "); on != std::string::npos) {
    when = completed.substr(on + 4);
    while (!when.empty() && when.back() == '\r') when.pop_back();
    d["dump_completed"] = when;
  }
  return fmt::format("{} of {} complete, server {}, {}{}", tool,
                     database.empty() ? "all databases" : database, server.empty() ? "?" : server,
                     FormatBytes(text.total()), when.empty() ? "" : ", completed " + when);
}

}  // namespace mamori::backup
