#include "mamori/notify/stored_acks.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "mamori/store/sqlite.h"

namespace mamori::notify {

Result<std::vector<AckView>> StoredAcks(const std::string& data_dir, WallTime now) {
  std::vector<AckView> out;
  const std::string path = (std::filesystem::path(data_dir) / "alerts.db").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
  if (!db.ok()) return db.error();
  auto st = db->Prepare("SELECT check_name, state FROM alert_state");
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

}  // namespace mamori::notify
