// Outbox: the durable queue between "mamori decided to tell someone" and "the
// receiver accepted it". Incident 4 is why it exists: failure mails rejected
// for months and nobody knew. So every notification is committed to disk
// before Enqueue returns, retried until delivered or expired, every attempt is
// recorded with the receiver's exact answer, and a channel that keeps failing
// shows in Health() so the caller can raise the alarm on another channel.
//
// Storage: its own SQLite file <data_dir>/outbox.db (WAL, synchronous=FULL:
// a notification is rare and must survive a power cut). One row per
// (notification id, channel): enqueueing the same pair twice is a no-op, so a
// caller may re-enqueue after a crash without duplicates.
//
// Delivery: one worker thread per channel, so a receiver that hangs until its
// timeout never delays the others. Within a channel, the oldest due item goes
// first. Each item backs off on its own (retry_first, doubling, up to
// retry_max) and the channel backs off as a whole after consecutive failures,
// so a channel down for hours costs one attempt per backoff period, not one
// per queued item. Items older than expire_after are given up ("expired").
//
// Guarantees: exactly once in normal operation (an item is marked "sending"
// in a committed transaction before Deliver and "delivered" right after); at
// least once across a crash: an item still "sending" when the process died is
// recorded as "interrupted" on the next Open and delivered again. When the
// outcome of a delivery cannot be written (outbox.db locked by another
// process, disk full), the worker keeps it in memory and writes it before it
// claims anything else, retrying with backoff (Health().record_error says so);
// only if the write still fails at Stop does the item stay "sending", to be
// delivered again after the restart.
//
// Time comes from the injected Clock (wall time: next-attempt times are stored
// and must mean the same after a restart). With a FakeClock, call Wake() after
// Advance() so sleeping workers look again.
//
// Threading: every public method is thread-safe. The destructor stops the
// workers, waiting for deliveries in flight (each bounded by its channel's
// timeout). Failure: storage errors are returned as Status/Result; delivery
// errors are data (attempts, Health), never exceptions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/notify/channel.h"
#include "mamori/notify/notify_config.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::notify {

struct OutboxOptions {
  OutboxPolicy policy;
  Duration retention = std::chrono::hours(24 * 30);  // finished items and attempts kept
  size_t max_pending = 10000;                    // Enqueue fails beyond this many undelivered items
  Duration max_sleep = std::chrono::seconds(5);  // a worker re-reads the clock at least this often
  // How long a write waits for outbox.db's lock when another process holds it.
  Duration busy_timeout = std::chrono::seconds(5);
};

struct OutboxItem {
  int64_t seq = 0;
  std::string id;
  std::string channel;
  std::string state;  // pending, sending, delivered, expired
  int attempts = 0;
  WallTime created{};
  WallTime next_attempt{};
  WallTime expires{};
  std::optional<WallTime> done;
  std::string last_answer;  // the receiver's answer or the error
};

struct DeliveryAttempt {
  int64_t item_seq = 0;
  std::string id;
  std::string channel;
  WallTime time{};
  std::string outcome;  // delivered, failed, interrupted
  std::string answer;
  Duration took{};
  bool ok() const { return outcome == "delivered"; }
};

struct ChannelHealth {
  std::string channel;
  std::string describe;          // "mail to ops@example.org via smtp://..."
  int consecutive_failures = 0;  // since the last delivery
  std::string last_error;        // the latest failure's message, with the receiver's words
  std::optional<WallTime> last_error_time;
  std::optional<WallTime> last_success_time;
  std::string last_answer;  // the latest successful answer
  int64_t pending = 0;      // not delivered yet (pending or sending)
  int64_t expired = 0;      // given up within the retention period
  std::optional<WallTime> oldest_pending;
  // Set while the outcome of a finished delivery could not be written to
  // outbox.db (the storage error); the write is retried and the delivery is
  // not repeated meanwhile.
  std::string record_error;
  bool failing() const { return consecutive_failures > 0; }
};

class Outbox {
 public:
  // Opens (creating) <data_dir>/outbox.db and recovers items left "sending".
  // No worker runs until SetChannels. Fails while another Outbox (in this or
  // another process) has the same file open: it holds an flock on
  // <data_dir>/outbox.db.lock.
  static Result<std::unique_ptr<Outbox>> Open(const std::string& data_dir, const Clock& clock,
                                              OutboxOptions options = {});
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Replaces the channel set (on start and on every reload): a worker per
  // channel name; workers of removed channels stop after their current
  // delivery. Items for a channel not configured stay queued until expiry.
  void SetChannels(const ChannelList& channels);

  // Stores `n` once per named channel, committed before it returns, and wakes
  // the workers. Fails on a channel name not given to SetChannels (nothing is
  // stored then), a
  // full outbox or a storage error. Calls Clamp() on a copy of `n`.
  Status Enqueue(const Notification& n, const std::vector<std::string>& channels);

  // Makes sleeping workers look at the queue and the clock again.
  void Wake();
  // Stops all workers (also done by the destructor).
  void Stop();

  // Reading, newest first; `id` empty means all (at most `limit`).
  Result<std::vector<OutboxItem>> Items(std::string_view id = "", size_t limit = 1000);
  Result<std::vector<DeliveryAttempt>> Attempts(std::string_view id = "", size_t limit = 1000);
  // One entry per configured channel (config order), then any other channel
  // that still has items.
  Result<std::vector<ChannelHealth>> Health();

  const std::string& path() const;

 private:
  struct Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The delay before retry number `attempt` (1 = the first retry).
Duration RetryDelay(const OutboxPolicy& policy, int attempt);

}  // namespace mamori::notify
