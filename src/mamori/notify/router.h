// AlertRouter: decides which notification goes to which channel, and when.
// It turns the engine's events (hard state changes, flapping) and the
// outbox's channel health into Notifications for the outbox.
//
// Model: for every check the router knows its hard state and, per channel,
// what that channel was last told ("marks"). Tick() reconciles the two: a
// channel that should know of a problem and does not gets a problem, one
// that was told of a problem that is over gets the recovery. Everything that
// keeps a channel from being told (dependency down, maintenance, flapping,
// quiet hours, min_severity) just postpones that reconciliation, so when it
// lifts, the channel hears the current truth once; a problem that came and
// went meanwhile is never sent, and neither is its recovery.
//
// - Grouping: an event marks its check dirty; dirty checks are reconciled
//   group_wait after the first of them, and all items for one channel in one
//   Tick become one notification (split at kMaxItems).
// - Routing: a check's `notify:` list, else the channels of every `routes:`
//   entry sharing a tag, else every channel.
// - Dependencies: a check whose dependency (transitively) is failing is not
//   sent; it is listed in the dependency's alert ("also affected").
// - Flapping: one "flapping" notice when it starts, nothing while it lasts,
//   one notice with the final state when it stops.
// - Reminders (reminder_every) and escalation (escalate_after/escalate_to)
//   per channel while a problem is unacknowledged; Ack() stops both until
//   the check recovers or the acknowledgement expires.
// - A channel whose deliveries keep failing becomes a pseudo check named
//   "notify:<channel>", alerted on every other channel.
//
// State that must survive a restart (marks, acks) is exported as JSON rows by
// TakeDirtyRows() and given back by Restore(); Seed() then brings in the hard
// states the engine restored, so what was decided but not yet handed to the
// outbox before a crash is decided again.
//
// Pure logic on an injected Clock: no I/O, no threads, no sleeping. Not
// thread-safe: one owner (the daemon's event loop) calls everything.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mamori/core/event.h"
#include "mamori/notify/alert_config.h"
#include "mamori/notify/notification.h"
#include "mamori/notify/outbox.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::notify {

// What the router needs to know about a check.
struct CheckInfo {
  std::string name;
  std::string type;
  std::vector<std::string> tags;
  std::vector<std::string> notify;      // explicit channels; empty: by routes
  std::vector<std::string> depends_on;  // check names
};

struct RouterSetup {
  std::vector<std::string> channels;  // every channel name, config order
  AlertConfig alerts;
  std::string host;  // shown in notifications
};

// One notification and the channels it goes to.
struct Outgoing {
  Notification notification;
  std::vector<std::string> channels;
};

// What the router decided in one Tick, per channel, before it is turned into
// notifications (BuildNotifications may run on another thread).
struct Decisions {
  WallTime time{};
  std::string host;
  std::map<std::string, std::vector<std::pair<Kind, Item>>> by_channel;
  bool empty() const { return by_channel.empty(); }
};

// One notification per channel and category (changes, reminders, flapping),
// items worst first, split at kMaxItems.
std::vector<Outgoing> BuildNotifications(Decisions d);

struct AckView {
  std::string check;
  std::optional<WallTime> until;  // nullopt: until the check recovers
  std::string by;
  WallTime at{};
};

// Prefix of the pseudo checks that stand for a failing channel.
inline constexpr std::string_view kChannelCheckPrefix = "notify:";

class AlertRouter {
 public:
  explicit AlertRouter(const Clock& clock);

  // Start and every reload. State of checks that are gone is dropped.
  void Configure(RouterSetup setup, std::vector<CheckInfo> checks);
  // Persisted rows (check, JSON) from an earlier run; call after Configure.
  void Restore(const std::vector<std::pair<std::string, std::string>>& rows);
  // The hard state the engine has for a check at start (nullopt: pending).
  void Seed(std::string_view check, std::optional<CheckStatus> hard, WallTime since,
            const std::string& summary);

  // `recent`: the check's last observations, newest first (evidence shown in
  // each alert; at most kMaxObservations kept).
  void OnEvent(const Event& e, const Observation& o,
               const std::vector<ObservationLine>& recent = {});
  // The outbox's health, polled by the caller (every few seconds).
  void OnChannelHealth(const std::vector<ChannelHealth>& health);

  // Acknowledges a failing check: no reminders or escalation until it
  // recovers or `for_` passes (nullopt: until recovery).
  Result<AckView> Ack(std::string_view check, std::optional<Duration> for_, std::string by);
  Status Unack(std::string_view check);
  std::vector<AckView> Acks() const;

  // Reconciles what is due and returns what to send now. Large amounts of
  // work (a group of 10,000 changes) are done in slices over several calls,
  // so one call stays short; the group is returned whole by the last slice.
  Decisions Decide();
  std::vector<Outgoing> Tick() { return BuildNotifications(Decide()); }
  // Completes a round in progress (before stopping) and returns its decisions.
  Decisions FinishRound();
  // Rows changed since the last call (at most `max`): (check, JSON), JSON
  // empty = delete. Checks with decisions still held in an unfinished round
  // are left for later: a row must never claim a channel was told before
  // the notification is handed over.
  std::vector<std::pair<std::string, std::string>> TakeDirtyRows(size_t max = SIZE_MAX);

  // An after-maintenance summary told `channels` the check's current state:
  // they count as told, so no separate problem or recovery follows for it.
  void NoteSummarySent(std::string_view check, const std::vector<std::string>& channels);

  // While it returns true for a check, nothing about that check is sent
  // (the maintenance window owner sets it; default: never).
  std::function<bool(std::string_view check, WallTime)> in_maintenance;

  // The channels a check's alerts are routed to (notify:, routes:, or all);
  // empty for a check the router does not know.
  std::vector<std::string> ChannelsOf(std::string_view check) const;

  // For tests and stats.
  size_t firing_count() const;
  bool IsFiring(std::string_view check) const;

 private:
  struct Mark {
    CheckStatus status = CheckStatus::kOk;  // what the channel was last told
    WallTime first{};                       // when it was first told of this problem
    WallTime last{};                        // latest problem or reminder
    bool escalated = false;
  };
  struct State {
    bool firing = false;
    CheckStatus status = CheckStatus::kOk;   // hard status
    CheckStatus latest = CheckStatus::kOk;   // latest observation (flapping notices)
    WallTime since{};                        // of `status`
    WallTime problem_since{};                // start of the current problem
    std::optional<WallTime> previous_since;  // when the status before `status` began
    std::string summary, details;
    std::vector<ObservationLine> observations;  // newest first, at the latest change
    std::map<std::string, Mark> marks;          // by channel
    bool acked = false;
    std::optional<WallTime> ack_until;  // nullopt: until recovery
    std::string ack_by;
    WallTime ack_at{};
    bool flapping = false;
    int flap_notice = 0;              // 1 started, 2 stopped: to be sent
    std::set<std::string> flap_told;  // channels that got the "started" notice
    bool Trivial() const {
      return !firing && marks.empty() && !acked && !flapping && flap_notice == 0 &&
             flap_told.empty();
    }
  };
  struct Info {
    CheckInfo check;
    std::vector<std::string> channels;    // routed
    std::vector<std::string> ancestors;   // transitive depends_on
    std::vector<std::string> dependants;  // transitive reverse
  };
  using Batch = std::map<std::string, std::vector<std::pair<Kind, Item>>>;  // by channel

  State& StateOf(const std::string& check);
  void MarkDirty(const std::string& check, WallTime now);
  void Touch(const std::string& check);  // row changed
  bool Quiet(const std::string& channel, CheckStatus status) const;
  bool BlockedByDependency(const Info& info) const;
  bool InMaintenance(const std::string& check, WallTime now) const;
  Item MakeItem(const std::string& check, const State& st, CheckStatus from, CheckStatus to) const;
  // Reconciles one check and forgets it when nothing is left to remember.
  void Reconcile(const std::string& check, WallTime now, bool sweep, Batch& out);
  void ReconcileState(const std::string& check, WallTime now, bool sweep, Batch& out);
  std::string ToRow(const State& st) const;
  const Info* InfoOf(const std::string& check) const;

  const Clock& clock_;
  RouterSetup setup_;
  std::unordered_map<std::string, Info> infos_;  // configured checks
  std::map<std::string, Info> channel_infos_;    // "notify:<channel>" pseudo checks
  std::unordered_map<std::string, State> states_;
  std::set<std::string> dirty_;        // waiting for the group flush
  std::optional<WallTime> flush_at_;   // when dirty_ is reconciled
  std::vector<std::string> flushing_;  // being reconciled, a slice per Decide()
  std::vector<std::string> sweeping_;  // the same for the periodic sweep
  Batch held_;                         // decided by earlier slices of this round
  std::set<std::string> held_checks_;  // checks with items in held_
  std::set<std::string> touched_;      // rows to write
  WallTime next_sweep_{};
  std::map<std::string, bool> quiet_now_;  // per channel, evaluated once per Tick
};

}  // namespace mamori::notify
