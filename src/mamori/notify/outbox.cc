#include "mamori/notify/outbox.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "mamori/store/sqlite.h"
#include "mamori/util/mutex.h"
#include "mamori/util/units.h"

namespace mamori::notify {

using sqlite::Db;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

constexpr size_t kMaxAnswer = 2000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL,
  channel     TEXT NOT NULL,
  payload     TEXT NOT NULL,
  state       TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_ms  INTEGER NOT NULL,
  next_ms     INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  done_ms     INTEGER,
  last_answer TEXT NOT NULL DEFAULT '',
  UNIQUE (id, channel)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (channel, state, next_ms);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, expires_ms);
CREATE TABLE IF NOT EXISTS attempts (
  n         INTEGER PRIMARY KEY AUTOINCREMENT,
  item_seq  INTEGER NOT NULL,
  id        TEXT NOT NULL,
  channel   TEXT NOT NULL,
  time_ms   INTEGER NOT NULL,
  outcome   TEXT NOT NULL,
  answer    TEXT NOT NULL,
  took_ms   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_id ON attempts (id);
CREATE INDEX IF NOT EXISTS attempts_channel ON attempts (channel, n);
)sql";
// One step per schema version (sqlite::OpenVersioned).
constexpr std::string_view kMigrations[] = {kSchema};

int64_t Ms(WallTime t) { return ToUnixMillis(t); }
int64_t Ms(Duration d) { return std::chrono::duration_cast<Millis>(d).count(); }

// In-memory view of a channel's recent luck, rebuilt from `attempts` on open.
struct Luck {
  int consecutive_failures = 0;
  std::string last_error;
  std::optional<WallTime> last_error_time, last_success_time;
  std::string last_answer;
  WallTime gate{};           // no attempt on this channel before this time
  std::string record_error;  // set while an outcome waits to be written
};

// The first wait before writing an unrecorded outcome again; it doubles up to
// OutboxOptions::max_sleep.
constexpr Duration kFirstRecordRetry = std::chrono::milliseconds(100);

}  // namespace

Duration RetryDelay(const OutboxPolicy& policy, int attempt) {
  Duration d = policy.retry_first;
  for (int i = 1; i < attempt && d < policy.retry_max; ++i) d *= 2;
  return std::min(d, policy.retry_max);
}

struct Outbox::Impl {
  const Clock& clock;
  OutboxOptions options;
  std::string path;

  int lock_fd = -1;  // flock()ed: one outbox per data_dir at a time
  Mutex db_mu;       // the connection, the channels' luck and the purge clock
  Db db GUARDED_BY(db_mu);
  std::map<std::string, Luck> luck GUARDED_BY(db_mu);
  WallTime last_purge GUARDED_BY(db_mu){};

  // One delivery thread per channel. Its channel and stop flag are guarded by
  // `mu`, which a nested struct cannot name: they are private, reached
  // through ChannelOf/StopOf, which require `mu`.
  class Worker {
   public:
    std::thread thread;  // started and joined by the thread that owns the Worker

   private:
    friend struct Impl;
    std::shared_ptr<Channel> channel;
    bool stop = false;
  };
  Mutex mu;  // the workers, their channels and stop flags, order, generation, stopping
  CondVar cv;
  std::map<std::string, std::unique_ptr<Worker>> workers GUARDED_BY(mu);
  std::vector<std::string> order GUARDED_BY(mu);  // configured channel names, config order
  uint64_t generation GUARDED_BY(mu) = 0;
  bool stopping GUARDED_BY(mu) = false;

  std::shared_ptr<Channel>& ChannelOf(Worker& w) REQUIRES(mu) { return w.channel; }
  bool& StopOf(Worker& w) REQUIRES(mu) { return w.stop; }

  Impl(const Clock& c, OutboxOptions o) : clock(c), options(std::move(o)) {}
  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  Status Init() REQUIRES(db_mu) { return RecoverInterrupted(); }

  // Items left "sending" by a process that died mid-delivery: the receiver
  // may or may not have them. Delivering again is the safe side (receivers
  // de-duplicate on the id); the interruption is recorded.
  Status RecoverInterrupted() REQUIRES(db_mu) {
    const int64_t now = Ms(clock.Now());
    auto tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.error();
    auto ins = db.Prepare(
        "INSERT INTO attempts (item_seq, id, channel, time_ms, outcome, answer, took_ms) "
        "SELECT seq, id, channel, ?1, 'interrupted', "
        "'mamori stopped during this delivery; it may have arrived and is sent again', 0 "
        "FROM outbox WHERE state = 'sending'");
    if (!ins.ok()) return ins.error();
    if (Status s = ins->Bind(1, now).Run(); !s.ok()) return s;
    auto up =
        db.Prepare("UPDATE outbox SET state = 'pending', next_ms = ?1 WHERE state = 'sending'");
    if (!up.ok()) return up.error();
    if (Status s = up->Bind(1, now).Run(); !s.ok()) return s;
    return tx->Commit();
  }

  // Rebuilds a channel's luck from its latest attempts (after a restart the
  // health report and the channel backoff carry on where they were).
  void LoadLuck(const std::string& channel) REQUIRES(db_mu) {
    Luck l;
    auto st = db.Prepare(
        "SELECT outcome, answer, time_ms FROM attempts WHERE channel = ?1 AND outcome != "
        "'interrupted' ORDER BY n DESC LIMIT 1000");
    if (!st.ok()) return;
    st->Bind(1, channel);
    bool streak = true;
    while (true) {
      auto row = st->Step();
      if (!row.ok() || !*row) break;
      const bool ok = st->ColumnText(0) == "delivered";
      const WallTime t = FromUnixMillis(st->ColumnInt(2));
      if (ok) {
        if (!l.last_success_time) {
          l.last_success_time = t;
          l.last_answer = st->ColumnText(1);
        }
        streak = false;
        break;
      }
      if (!l.last_error_time) {
        l.last_error_time = t;
        l.last_error = st->ColumnText(1);
      }
      if (streak) ++l.consecutive_failures;
    }
    if (l.consecutive_failures > 0 && l.last_error_time)
      l.gate = *l.last_error_time + RetryDelay(options.policy, l.consecutive_failures);
    luck[channel] = std::move(l);
  }

  void ExpireAndPurge(WallTime now) REQUIRES(db_mu) {
    auto ex = db.Prepare(
        "UPDATE outbox SET state = 'expired', done_ms = ?1, last_answer = "
        "'expired without delivery; last: ' || last_answer WHERE state = 'pending' AND "
        "expires_ms <= ?1");
    if (ex.ok()) (void)ex->Bind(1, Ms(now)).Run();
    if (now - last_purge < std::chrono::hours(1)) return;
    last_purge = now;
    const int64_t cutoff = Ms(now - options.retention);
    auto p1 =
        db.Prepare("DELETE FROM outbox WHERE state IN ('delivered', 'expired') AND done_ms < ?1");
    if (p1.ok()) (void)p1->Bind(1, cutoff).Run();
    auto p2 = db.Prepare("DELETE FROM attempts WHERE time_ms < ?1");
    if (p2.ok()) (void)p2->Bind(1, cutoff).Run();
  }

  struct Due {
    int64_t seq = 0;
    std::string id;
    std::string payload;
    int attempts = 0;
  };

  // The oldest due item of `channel`, marked "sending" (committed); or the
  // time the next one becomes due.
  Result<std::optional<Due>> Claim(const std::string& channel, WallTime now,
                                   std::optional<WallTime>* next_due) {
    MutexLock lock(db_mu);
    ExpireAndPurge(now);
    const Luck& l = luck[channel];
    auto next =
        db.Prepare("SELECT MIN(next_ms) FROM outbox WHERE channel = ?1 AND state = 'pending'");
    if (!next.ok()) return next.error();
    auto nr = next->Bind(1, channel).Step();
    if (!nr.ok()) return nr.error();
    if (*nr && !next->IsNull(0)) *next_due = FromUnixMillis(next->ColumnInt(0));
    next->Reset();
    if (now < l.gate) {
      if (*next_due) *next_due = std::max(**next_due, l.gate);
      return std::optional<Due>();
    }
    auto tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.error();
    auto st = db.Prepare(
        "SELECT seq, id, payload, attempts FROM outbox WHERE channel = ?1 AND state = 'pending' "
        "AND next_ms <= ?2 ORDER BY seq LIMIT 1");
    if (!st.ok()) return st.error();
    auto row = st->Bind(1, channel).Bind(2, Ms(now)).Step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<Due>();
    Due d;
    d.seq = st->ColumnInt(0);
    d.id = st->ColumnText(1);
    d.payload = st->ColumnText(2);
    d.attempts = static_cast<int>(st->ColumnInt(3)) + 1;
    st->Reset();
    auto up =
        db.Prepare("UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE seq = ?1");
    if (!up.ok()) return up.error();
    if (Status s = up->Bind(1, d.seq).Run(); !s.ok()) return s.error();
    if (Status s = tx->Commit(); !s.ok()) return s.error();
    return std::optional<Due>(std::move(d));
  }

  // A finished delivery, kept until it is written to outbox.db.
  struct Outcome {
    Due due;
    WallTime started{}, finished{};
    Result<std::string> result;
    bool permanent = false;  // not worth retrying (the stored payload is unreadable)
  };

  // The channel's luck after an attempt; in memory, so once per attempt
  // however often writing the outcome has to be retried.
  void NoteLuck(const std::string& channel, const Outcome& o) {
    MutexLock lock(db_mu);
    Luck& l = luck[channel];
    if (o.result.ok()) {
      l.consecutive_failures = 0;
      l.last_success_time = o.finished;
      l.last_answer = Answer(o);
      l.gate = WallTime{};
    } else {
      ++l.consecutive_failures;
      l.last_error = Answer(o);
      l.last_error_time = o.finished;
      l.gate = o.finished + RetryDelay(options.policy, l.consecutive_failures);
    }
  }

  static std::string Answer(const Outcome& o) {
    return CapUtf8(o.result.ok() ? *o.result : o.result.error().message(), kMaxAnswer);
  }

  // Writes the attempt and the item's new state in one transaction; on
  // failure the channel's record_error says why until a write succeeds.
  Status WriteOutcome(const std::string& channel, const Outcome& o) {
    MutexLock lock(db_mu);
    Status s = WriteOutcomeLocked(channel, o);
    luck[channel].record_error =
        s.ok() ? "" : "the outcome of a delivery could not be recorded: " + s.error().message();
    return s;
  }

  Status WriteOutcomeLocked(const std::string& channel, const Outcome& o) REQUIRES(db_mu) {
    const Due& d = o.due;
    const std::string answer = Answer(o);
    const WallTime now = o.finished;
    auto tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.error();
    auto ins = db.Prepare(
        "INSERT INTO attempts (item_seq, id, channel, time_ms, outcome, answer, took_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!ins.ok()) return ins.error();
    ins->Bind(1, d.seq)
        .Bind(2, d.id)
        .Bind(3, channel)
        .Bind(4, Ms(o.started))
        .Bind(5, o.result.ok() ? "delivered" : "failed")
        .Bind(6, answer)
        .Bind(7, std::max<int64_t>(0, Ms(now - o.started)));
    if (Status s = ins->Run(); !s.ok()) return s;
    auto up = db.Prepare(
        "UPDATE outbox SET state = ?2, next_ms = ?3, done_ms = ?4, last_answer = ?5 "
        "WHERE seq = ?1");
    if (!up.ok()) return up.error();
    up->Bind(1, d.seq).Bind(5, answer);
    if (o.result.ok()) {
      up->Bind(2, "delivered").Bind(3, Ms(now)).Bind(4, Ms(now));
    } else if (o.permanent) {
      up->Bind(2, "expired").Bind(3, Ms(now)).Bind(4, Ms(now));
    } else {
      up->Bind(2, "pending").Bind(3, Ms(now + RetryDelay(options.policy, d.attempts))).BindNull(4);
    }
    if (Status s = up->Run(); !s.ok()) return s;
    return tx->Commit();
  }

  void Loop(const std::string& name, Worker* w) {
    // A delivery whose outcome is not in outbox.db yet: it is written before
    // anything else is claimed, and is never delivered again because of it.
    std::optional<Outcome> unrecorded;
    Duration record_retry = kFirstRecordRetry;
    while (true) {
      std::shared_ptr<Channel> channel;
      uint64_t gen;
      {
        MutexLock lock(mu);
        if (stopping || StopOf(*w)) break;
        channel = ChannelOf(*w);
        gen = generation;
      }
      Duration sleep = options.max_sleep;
      if (unrecorded) {
        if (WriteOutcome(name, *unrecorded).ok()) {
          unrecorded.reset();
          record_retry = kFirstRecordRetry;
          continue;
        }
        sleep = record_retry;
        record_retry = std::min<Duration>(record_retry * 2, options.max_sleep);
      } else if (std::optional<Outcome> o = DeliverNext(name, *channel, &sleep)) {
        NoteLuck(name, *o);
        if (!WriteOutcome(name, *o).ok()) unrecorded = std::move(o);
        continue;  // look for the next one at once
      }
      MutexLock lock(mu);
      cv.wait_for(lock, sleep,
                  [&]() REQUIRES(mu) { return stopping || StopOf(*w) || generation != gen; });
    }
    // A last try; if it fails too the item stays "sending" and is delivered
    // again after the restart (at least once).
    if (unrecorded) (void)WriteOutcome(name, *unrecorded);
  }

  // Claims and delivers the channel's next due item; without one, sets
  // `sleep` to the wait until the next is due (at most max_sleep).
  std::optional<Outcome> DeliverNext(const std::string& name, Channel& channel, Duration* sleep) {
    const WallTime now = clock.Now();
    std::optional<WallTime> next_due;
    auto claimed = Claim(name, now, &next_due);
    if (claimed.ok() && claimed->has_value()) {
      Due& d = **claimed;
      auto n = FromJson(nlohmann::json::parse(d.payload, nullptr, false));
      const WallTime started = clock.Now();
      Result<std::string> r =
          n.ok() ? channel.Deliver(*n)
                 : Result<std::string>(n.error().Wrap("the stored notification cannot be read"));
      return Outcome{std::move(d), started, clock.Now(), std::move(r), !n.ok()};
    }
    if (claimed.ok() && next_due) {
      const Duration until = *next_due - clock.Now();
      *sleep = std::clamp<Duration>(until, Duration(0), options.max_sleep);
      if (*sleep == Duration(0)) *sleep = std::chrono::milliseconds(1);
    }
    return std::nullopt;
  }
};

Outbox::Outbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Outbox::~Outbox() { Stop(); }

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& data_dir, const Clock& clock,
                                             OutboxOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error(fmt::format("cannot create {}: {}", data_dir, ec.message()));
  auto impl = std::make_unique<Impl>(clock, std::move(options));
  impl->path = (std::filesystem::path(data_dir) / "outbox.db").string();
  // A second outbox on the same file would take the first one's "sending"
  // items for interrupted ones and deliver them twice.
  const std::string lock_path = impl->path + ".lock";
  impl->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (impl->lock_fd < 0)
    return Error(fmt::format("cannot open {}: {}", lock_path, std::strerror(errno)));
  if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0)
    return Error(fmt::format("{} is in use by another mamori process (the daemon?)", impl->path));
  sqlite::VersionedOptions vo;
  vo.busy_timeout = impl->options.busy_timeout;
  vo.settings = "PRAGMA synchronous = FULL";
  auto db = sqlite::OpenVersioned(impl->path, kMigrations, vo);
  if (!db.ok()) return db.error();
  {
    // No worker runs yet; the lock is for the analysis.
    MutexLock lock(impl->db_mu);
    impl->db = std::move(*db);
    if (Status s = impl->Init(); !s.ok()) return s.error().Wrap("opening " + impl->path);
  }
  return std::unique_ptr<Outbox>(new Outbox(std::move(impl)));
}

const std::string& Outbox::path() const { return impl_->path; }

void Outbox::SetChannels(const ChannelList& channels) {
  std::vector<std::unique_ptr<Impl::Worker>> retired;
  {
    MutexLock dbl(impl_->db_mu);
    for (const auto& c : channels)
      if (!impl_->luck.count(c->name())) impl_->LoadLuck(c->name());
  }
  {
    MutexLock lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->order.clear();
    std::map<std::string, std::shared_ptr<Channel>> wanted;
    for (const auto& c : channels) {
      wanted[c->name()] = c;
      impl_->order.push_back(c->name());
    }
    for (auto it = impl_->workers.begin(); it != impl_->workers.end();) {
      auto found = wanted.find(it->first);
      if (found == wanted.end()) {
        impl_->StopOf(*it->second) = true;
        retired.push_back(std::move(it->second));
        it = impl_->workers.erase(it);
      } else {
        impl_->ChannelOf(*it->second) = found->second;
        wanted.erase(found);
        ++it;
      }
    }
    for (auto& [name, ch] : wanted) {
      auto w = std::make_unique<Impl::Worker>();
      impl_->ChannelOf(*w) = ch;
      Impl::Worker* raw = w.get();
      Impl* impl = impl_.get();
      w->thread = std::thread([impl, n = name, raw] { impl->Loop(n, raw); });
      impl_->workers.emplace(name, std::move(w));
    }
    ++impl_->generation;
  }
  impl_->cv.notify_all();
  for (auto& w : retired)
    if (w->thread.joinable()) w->thread.join();
}

Status Outbox::Enqueue(const Notification& original, const std::vector<std::string>& channels) {
  if (original.id.empty()) return Error("a notification needs an id");
  {
    MutexLock lock(impl_->mu);
    for (const auto& c : channels)
      if (!impl_->workers.count(c)) return Error(fmt::format("no notify channel named '{}'", c));
  }
  Notification n = original;
  Clamp(n);
  const std::string payload =
      ToJson(n).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const WallTime now = impl_->clock.Now();
  {
    MutexLock lock(impl_->db_mu);
    Db& db = impl_->db;
    auto tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.error();
    auto count = db.Prepare("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')");
    if (!count.ok()) return count.error();
    auto row = count->Step();
    if (!row.ok()) return row.error();
    if (*row &&
        static_cast<size_t>(count->ColumnInt(0)) + channels.size() > impl_->options.max_pending)
      return Error(
          fmt::format("the outbox is full ({} undelivered notifications); check the "
                      "channels' health",
                      count->ColumnInt(0)));
    count->Reset();
    auto ins = db.Prepare(
        "INSERT OR IGNORE INTO outbox (id, channel, payload, state, created_ms, next_ms, "
        "expires_ms) VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?5)");
    if (!ins.ok()) return ins.error();
    for (const auto& c : channels) {
      ins->Bind(1, n.id)
          .Bind(2, c)
          .Bind(3, payload)
          .Bind(4, Ms(now))
          .Bind(5, Ms(now + impl_->options.policy.expire_after));
      if (Status s = ins->Run(); !s.ok()) return s;
    }
    if (Status s = tx->Commit(); !s.ok()) return s;
  }
  Wake();
  return Status::Ok();
}

void Outbox::Wake() {
  {
    MutexLock lock(impl_->mu);
    ++impl_->generation;
  }
  impl_->cv.notify_all();
}

void Outbox::Stop() {
  std::map<std::string, std::unique_ptr<Impl::Worker>> workers;
  {
    MutexLock lock(impl_->mu);
    impl_->stopping = true;
    workers.swap(impl_->workers);
  }
  impl_->cv.notify_all();
  for (auto& [name, w] : workers)
    if (w->thread.joinable()) w->thread.join();
}

Result<std::vector<OutboxItem>> Outbox::Items(std::string_view id, size_t limit) {
  MutexLock lock(impl_->db_mu);
  auto st = impl_->db.Prepare(
      "SELECT seq, id, channel, state, attempts, created_ms, next_ms, expires_ms, done_ms, "
      "last_answer FROM outbox WHERE (?1 = '' OR id = ?1) ORDER BY seq DESC LIMIT ?2");
  if (!st.ok()) return st.error();
  st->Bind(1, id).Bind(2, static_cast<int64_t>(limit));
  std::vector<OutboxItem> out;
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    OutboxItem it;
    it.seq = st->ColumnInt(0);
    it.id = st->ColumnText(1);
    it.channel = st->ColumnText(2);
    it.state = st->ColumnText(3);
    it.attempts = static_cast<int>(st->ColumnInt(4));
    it.created = FromUnixMillis(st->ColumnInt(5));
    it.next_attempt = FromUnixMillis(st->ColumnInt(6));
    it.expires = FromUnixMillis(st->ColumnInt(7));
    if (auto d = st->ColumnOptionalInt(8)) it.done = FromUnixMillis(*d);
    it.last_answer = st->ColumnText(9);
    out.push_back(std::move(it));
  }
  return out;
}

Result<std::vector<DeliveryAttempt>> Outbox::Attempts(std::string_view id, size_t limit) {
  MutexLock lock(impl_->db_mu);
  auto st = impl_->db.Prepare(
      "SELECT item_seq, id, channel, time_ms, outcome, answer, took_ms FROM attempts "
      "WHERE (?1 = '' OR id = ?1) ORDER BY n DESC LIMIT ?2");
  if (!st.ok()) return st.error();
  st->Bind(1, id).Bind(2, static_cast<int64_t>(limit));
  std::vector<DeliveryAttempt> out;
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    DeliveryAttempt a;
    a.item_seq = st->ColumnInt(0);
    a.id = st->ColumnText(1);
    a.channel = st->ColumnText(2);
    a.time = FromUnixMillis(st->ColumnInt(3));
    a.outcome = st->ColumnText(4);
    a.answer = st->ColumnText(5);
    a.took = Millis(st->ColumnInt(6));
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<ChannelHealth>> Outbox::Health() {
  std::vector<std::string> names;
  std::map<std::string, std::string> describe;
  {
    MutexLock lock(impl_->mu);
    names = impl_->order;
    for (const auto& [name, w] : impl_->workers) describe[name] = impl_->ChannelOf(*w)->Describe();
  }
  MutexLock lock(impl_->db_mu);
  const int64_t cutoff = Ms(impl_->clock.Now() - impl_->options.retention);
  auto st = impl_->db.Prepare(
      "SELECT channel, "
      "sum(state IN ('pending', 'sending')), "
      "sum(state = 'expired' AND done_ms >= ?1), "
      "min(CASE WHEN state IN ('pending', 'sending') THEN created_ms END) "
      "FROM outbox GROUP BY channel");
  if (!st.ok()) return st.error();
  st->Bind(1, cutoff);
  std::map<std::string, ChannelHealth> by_name;
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    ChannelHealth h;
    h.channel = st->ColumnText(0);
    h.pending = st->ColumnInt(1);
    h.expired = st->ColumnInt(2);
    if (auto t = st->ColumnOptionalInt(3)) h.oldest_pending = FromUnixMillis(*t);
    by_name[h.channel] = std::move(h);
  }
  for (const auto& [name, h] : by_name)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  std::vector<ChannelHealth> out;
  for (const auto& name : names) {
    ChannelHealth h = by_name.count(name) ? by_name[name] : ChannelHealth{};
    h.channel = name;
    h.describe = describe.count(name) ? describe[name] : "(not configured)";
    if (!impl_->luck.count(name)) impl_->LoadLuck(name);
    const Luck& l = impl_->luck[name];
    h.consecutive_failures = l.consecutive_failures;
    h.last_error = l.last_error;
    h.last_error_time = l.last_error_time;
    h.last_success_time = l.last_success_time;
    h.last_answer = l.last_answer;
    h.record_error = l.record_error;
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace mamori::notify
