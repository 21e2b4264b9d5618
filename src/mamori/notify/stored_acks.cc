#include "mamori/notify/stored_acks.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mamori/notify/stored_file.h"
#include "mamori/store/sqlite.h"

namespace mamori::notify {

Result<std::vector<AckView>> StoredAcks(const std::string& data_dir, WallTime now) {
  std::vector<AckView> out;
  auto db = OpenStoredReadOnly(data_dir, "alerts.db");
  if (!db.ok()) return db.error();
  if (!*db) return out;
  auto st = (*db)->Prepare("SELECT check_name, state FROM alert_state");
  if (!st.ok()) return st.error();
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    // The row's "ack" object, as AlertRouter writes it (router.cc, ToRow).
    auto j = nlohmann::json::parse(st->ColumnText(1), nullptr, false);
    if (!j.is_object() || !j.contains("ack") || !j["ack"].is_object()) continue;
    const auto& a = j["ack"];
    AckView v;
    v.check = st->ColumnText(0);
    v.by = a.value("by", "");
    v.at = FromUnixMillis(a.value("at_ms", int64_t{0}));
    if (a.contains("until_ms")) v.until = FromUnixMillis(a.value("until_ms", int64_t{0}));
    if (v.until && *v.until <= now) continue;
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<AckRecord>> StoredAckLog(const std::string& data_dir, WallTime since,
                                            size_t limit) {
  std::vector<AckRecord> out;
  auto db = OpenStoredReadOnly(data_dir, "alerts.db");
  if (!db.ok()) return db.error();
  if (!*db) return out;
  auto version = sqlite::UserVersion(**db);
  if (!version.ok()) return version.error();
  if (*version < 2) return out;  // before the log: nothing was recorded
  auto st = (*db)->Prepare(
      "SELECT check_name, at_ms, by, until_ms, withdrawn FROM ack_log WHERE at_ms >= ?1 "
      "ORDER BY n DESC LIMIT ?2");
  if (!st.ok()) return st.error();
  st->Bind(1, ToUnixMillis(since)).Bind(2, static_cast<int64_t>(limit));
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    AckRecord a;
    a.check = st->ColumnText(0);
    a.at = FromUnixMillis(st->ColumnInt(1));
    a.by = st->ColumnText(2);
    if (auto u = st->ColumnOptionalInt(3)) a.until = FromUnixMillis(*u);
    a.withdrawn = st->ColumnInt(4) != 0;
    out.push_back(std::move(a));
  }
  std::reverse(out.begin(), out.end());  // read newest first so the limit keeps the newest
  return out;
}

}  // namespace mamori::notify
