#include "mamori/notify/stored_deliveries.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mamori/notify/stored_file.h"

namespace mamori::notify {

bool StoredDelivery::Names(std::string_view check) const {
  for (const auto& [name, summary] : items)
    if (name == check) return true;
  return false;
}

Result<std::vector<StoredDelivery>> StoredDeliveries(const std::string& data_dir, WallTime since,
                                                     size_t limit) {
  std::vector<StoredDelivery> out;
  auto db = OpenStoredReadOnly(data_dir, "outbox.db");
  if (!db.ok()) return db.error();
  if (!*db) return out;
  auto st = (*db)->Prepare(
      "SELECT id, channel, payload, state, attempts, created_ms, done_ms, last_answer FROM outbox "
      "WHERE created_ms >= ?1 ORDER BY seq DESC LIMIT ?2");
  if (!st.ok()) return st.error();
  st->Bind(1, ToUnixMillis(since)).Bind(2, static_cast<int64_t>(limit));
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    auto n = FromJson(nlohmann::json::parse(st->ColumnText(2), nullptr, false));
    if (!n.ok()) continue;
    StoredDelivery d;
    d.id = st->ColumnText(0);
    d.channel = st->ColumnText(1);
    d.kind = n->kind;
    d.title = Title(*n);
    for (const auto& it : n->items) d.items.emplace_back(it.check, it.summary);
    d.state = st->ColumnText(3);
    d.attempts = static_cast<int>(st->ColumnInt(4));
    d.created = FromUnixMillis(st->ColumnInt(5));
    if (auto t = st->ColumnOptionalInt(6)) d.done = FromUnixMillis(*t);
    d.last_answer = st->ColumnText(7);
    out.push_back(std::move(d));
  }
  std::reverse(out.begin(), out.end());  // read newest first so the limit keeps the newest
  return out;
}

}  // namespace mamori::notify
