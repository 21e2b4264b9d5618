#include "mamori/notify/log_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "mamori/notify/notification.h"
#include "mamori/store/sqlite.h"
#include "mamori/util/units.h"

namespace mamori::notify {
namespace {

constexpr size_t kMaxLimit = 100000;
constexpr size_t kAnswerWidth = 200;  // table only; JSON has the whole answer

struct AttemptRow {
  std::string time, id, channel, outcome, answer;
  int64_t time_ms = 0, took_ms = 0;
};

struct Waiting {
  int64_t pending = 0, expired = 0;
  std::optional<int64_t> oldest_ms;
};

std::string OneLine(std::string s, size_t width) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > width) {
    size_t cut = width;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    s = s.substr(0, cut) + "...";
  }
  return s;
}

// Steps through every row of `st`, calling `on_row` for each.
template <typename F>
Status EachRow(sqlite::Statement& st, F on_row) {
  while (true) {
    auto row = st.Step();
    if (!row.ok()) return row.error();
    if (!*row) return Status::Ok();
    on_row();
  }
}

}  // namespace

int RunNotifyLog(const NotifyLogOptions& o, std::ostream& out, std::ostream& err) {
  const std::string path = o.data_dir + "/outbox.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    err << fmt::format(
        "mamori: {} does not exist: nothing was ever queued here (no notify: channels, or "
        "another data_dir)\n",
        path);
    return 3;
  }
  auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
  if (!db.ok()) {
    err << "mamori: " << db.error().message() << "\n";
    return 3;
  }
  auto st = db->Prepare(
      "SELECT id, channel, time_ms, outcome, answer, took_ms FROM attempts "
      "WHERE (?1 = '' OR channel = ?1) ORDER BY n DESC LIMIT ?2");
  if (!st.ok()) {
    err << "mamori: " << path << ": " << st.error().message() << "\n";
    return 3;
  }
  st->Bind(1, o.channel).Bind(2, static_cast<int64_t>(std::min(o.limit, kMaxLimit)));
  std::vector<AttemptRow> rows;
  Status read = EachRow(*st, [&] {
    AttemptRow a;
    a.id = st->ColumnText(0);
    a.channel = st->ColumnText(1);
    a.time_ms = st->ColumnInt(2);
    a.time = FormatWhen(FromUnixMillis(a.time_ms));
    a.outcome = st->ColumnText(3);
    a.answer = st->ColumnText(4);
    a.took_ms = st->ColumnInt(5);
    rows.push_back(std::move(a));
  });
  if (!read.ok()) {
    err << "mamori: " << path << ": " << read.error().message() << "\n";
    return 3;
  }
  auto wt = db->Prepare(
      "SELECT channel, sum(state IN ('pending', 'sending')), sum(state = 'expired'), "
      "min(CASE WHEN state IN ('pending', 'sending') THEN created_ms END) FROM outbox "
      "WHERE (?1 = '' OR channel = ?1) GROUP BY channel ORDER BY channel");
  if (!wt.ok()) {
    err << "mamori: " << path << ": " << wt.error().message() << "\n";
    return 3;
  }
  wt->Bind(1, o.channel);
  std::map<std::string, Waiting> waiting;
  read = EachRow(*wt, [&] {
    Waiting w;
    w.pending = wt->ColumnInt(1);
    w.expired = wt->ColumnInt(2);
    w.oldest_ms = wt->ColumnOptionalInt(3);
    waiting[wt->ColumnText(0)] = w;
  });
  if (!read.ok()) {
    err << "mamori: " << path << ": " << read.error().message() << "\n";
    return 3;
  }

  // The newest attempt per channel decides the exit code.
  std::map<std::string, bool> latest_ok;
  for (const auto& a : rows)
    if (!latest_ok.count(a.channel)) latest_ok[a.channel] = a.outcome == "delivered";
  bool failing = false;
  for (const auto& [ch, ok] : latest_ok) failing = failing || !ok;

  if (o.json) {
    nlohmann::json j;
    j["attempts"] = nlohmann::json::array();
    for (const auto& a : rows)
      j["attempts"].push_back({{"time", a.time},
                               {"time_ms", a.time_ms},
                               {"channel", a.channel},
                               {"notification", a.id},
                               {"outcome", a.outcome},
                               {"took_ms", a.took_ms},
                               {"answer", a.answer}});
    j["channels"] = nlohmann::json::array();
    for (const auto& [ch, w] : waiting) {
      nlohmann::json c = {{"channel", ch}, {"pending", w.pending}, {"expired", w.expired}};
      if (w.oldest_ms) c["oldest_pending"] = FormatWhen(FromUnixMillis(*w.oldest_ms));
      j["channels"].push_back(std::move(c));
    }
    out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return failing ? 2 : 0;
  }

  if (rows.empty()) {
    out << (o.channel.empty() ? "no delivery attempts recorded\n"
                              : fmt::format("no delivery attempts recorded for {}\n", o.channel));
  } else {
    size_t ch_w = 7, out_w = 7;
    for (const auto& a : rows) {
      ch_w = std::max(ch_w, a.channel.size());
      out_w = std::max(out_w, a.outcome.size());
    }
    out << fmt::format("{:<23}  {:<{}}  {:<{}}  {:>7}  {:<12}  {}\n", "TIME", "CHANNEL", ch_w,
                       "OUTCOME", out_w, "TOOK", "NOTIFICATION", "ANSWER");
    for (const auto& a : rows)
      out << fmt::format("{:<23}  {:<{}}  {:<{}}  {:>7}  {:<12}  {}\n", a.time, a.channel, ch_w,
                         a.outcome, out_w, fmt::format("{}ms", a.took_ms), a.id.substr(0, 12),
                         OneLine(a.answer, kAnswerWidth));
  }
  for (const auto& [ch, w] : waiting) {
    if (w.pending == 0 && w.expired == 0) continue;
    out << fmt::format(
        "{}: {} waiting{}{}\n", ch, w.pending,
        w.oldest_ms ? fmt::format(" (oldest queued {})", FormatWhen(FromUnixMillis(*w.oldest_ms)))
                    : "",
        w.expired ? fmt::format(", {} given up (expired)", w.expired) : "");
  }
  return failing ? 2 : 0;
}

}  // namespace mamori::notify
