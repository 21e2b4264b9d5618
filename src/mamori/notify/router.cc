#include "mamori/notify/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mamori/util/units.h"

namespace mamori::notify {

namespace {

constexpr size_t kMaxStoredDetails = 4096;  // per check, in memory and in alerts.db
constexpr size_t kMaxAffectedNamed = 50;    // "also affected" names listed
constexpr Duration kSweepEvery = std::chrono::seconds(1);
// Checks reconciled per Decide() call: bounds the time one call takes on
// the event loop (a few ms), at the cost of spreading a very large group
// over several ticks.
constexpr size_t kSlice = 1000;

bool Passes(CheckStatus status, CheckStatus min) { return Severity(status) >= Severity(min); }

std::string Label(CheckStatus s) { return std::string(StatusLabel(s)); }

// Transitive closure over `edges` from `start` (excluded), cycle-safe and in
// discovery order.
std::vector<std::string> Closure(
    const std::string& start,
    const std::unordered_map<std::string, std::vector<std::string>>& edges) {
  std::vector<std::string> out;
  std::set<std::string> seen{start};
  std::vector<std::string> stack{start};
  while (!stack.empty()) {
    std::string cur = std::move(stack.back());
    stack.pop_back();
    auto it = edges.find(cur);
    if (it == edges.end()) continue;
    for (const auto& next : it->second) {
      if (!seen.insert(next).second) continue;
      out.push_back(next);
      stack.push_back(next);
    }
  }
  return out;
}

}  // namespace

AlertRouter::AlertRouter(const Clock& clock) : clock_(clock) {}

void AlertRouter::Configure(RouterSetup setup, std::vector<CheckInfo> checks) {
  setup_ = std::move(setup);
  const std::set<std::string> known(setup_.channels.begin(), setup_.channels.end());
  std::unordered_map<std::string, std::vector<std::string>> deps, rdeps;
  for (const auto& c : checks) {
    for (const auto& d : c.depends_on) {
      deps[c.name].push_back(d);
      rdeps[d].push_back(c.name);
    }
  }
  infos_.clear();
  for (auto& c : checks) {
    Info info;
    std::set<std::string> wanted;
    if (!c.notify.empty()) {
      wanted.insert(c.notify.begin(), c.notify.end());
    } else {
      for (const auto& r : setup_.alerts.routes) {
        const bool match = std::any_of(r.tags.begin(), r.tags.end(), [&](const std::string& t) {
          return std::find(c.tags.begin(), c.tags.end(), t) != c.tags.end();
        });
        if (match) wanted.insert(r.notify.begin(), r.notify.end());
      }
      if (wanted.empty()) wanted = known;
    }
    for (const auto& ch : setup_.channels)  // config order, known channels only
      if (wanted.count(ch)) info.channels.push_back(ch);
    info.ancestors = Closure(c.name, deps);
    info.dependants = Closure(c.name, rdeps);
    std::string name = c.name;
    info.check = std::move(c);
    infos_[name] = std::move(info);
  }
  channel_infos_.clear();
  for (const auto& ch : setup_.channels) {
    Info info;
    info.check.name = std::string(kChannelCheckPrefix) + ch;
    info.check.type = "notify";
    for (const auto& other : setup_.channels)
      if (other != ch) info.channels.push_back(other);
    channel_infos_[info.check.name] = std::move(info);
  }
  // Forget checks that are gone and channels that are gone.
  for (auto it = states_.begin(); it != states_.end();) {
    if (!InfoOf(it->first)) {
      touched_.insert(it->first);
      dirty_.erase(it->first);
      it = states_.erase(it);
      continue;
    }
    auto& st = it->second;
    for (auto m = st.marks.begin(); m != st.marks.end();) {
      if (known.count(m->first)) {
        ++m;
      } else {
        m = st.marks.erase(m);
        touched_.insert(it->first);
      }
    }
    std::erase_if(st.flap_told, [&](const std::string& ch) { return !known.count(ch); });
    ++it;
  }
}

const AlertRouter::Info* AlertRouter::InfoOf(const std::string& check) const {
  if (auto it = infos_.find(check); it != infos_.end()) return &it->second;
  if (auto it = channel_infos_.find(check); it != channel_infos_.end()) return &it->second;
  return nullptr;
}

std::vector<std::string> AlertRouter::ChannelsOf(std::string_view check) const {
  const Info* info = InfoOf(std::string(check));
  return info ? info->channels : std::vector<std::string>{};
}

AlertRouter::State& AlertRouter::StateOf(const std::string& check) { return states_[check]; }

void AlertRouter::Touch(const std::string& check) { touched_.insert(check); }

void AlertRouter::MarkDirty(const std::string& check, WallTime now) {
  dirty_.insert(check);
  touched_.insert(check);
  if (!flush_at_) flush_at_ = now + setup_.alerts.group_wait;
}

bool AlertRouter::Quiet(const std::string& channel, CheckStatus status) const {
  auto it = quiet_now_.find(channel);
  if (it == quiet_now_.end() || !it->second) return false;
  const auto& q = setup_.alerts.Policy(channel).quiet_hours;
  return !(q && q->bypass_critical && status == CheckStatus::kCritical);
}

bool AlertRouter::BlockedByDependency(const Info& info) const {
  for (const auto& a : info.ancestors) {
    auto it = states_.find(a);
    if (it != states_.end() && it->second.firing) return true;
  }
  return false;
}

bool AlertRouter::InMaintenance(const std::string& check, WallTime now) const {
  return in_maintenance && in_maintenance(check, now);
}

Item AlertRouter::MakeItem(const std::string& check, const State& st, CheckStatus from,
                           CheckStatus to) const {
  Item item;
  item.check = check;
  item.from = from;
  item.to = to;
  item.summary = st.summary;
  item.details = st.details;
  item.since = st.since;
  if (to == CheckStatus::kOk && st.problem_since != WallTime{})
    item.previous_since = st.problem_since;
  else if (to != CheckStatus::kOk && st.previous_since)
    item.previous_since = st.previous_since;
  item.observations = st.observations;
  const Info* info = InfoOf(check);
  if (!info) return item;
  item.type = info->check.type;
  for (const auto& t : info->check.tags) item.labels.emplace_back("tag", t);
  if (to != CheckStatus::kOk && !info->dependants.empty()) {
    std::vector<std::string> affected;
    for (const auto& d : info->dependants) {
      auto it = states_.find(d);
      if (it != states_.end() && it->second.firing) affected.push_back(d);
    }
    if (!affected.empty()) {
      const size_t total = affected.size();
      std::sort(affected.begin(), affected.end());
      if (affected.size() > kMaxAffectedNamed) affected.resize(kMaxAffectedNamed);
      std::string list = fmt::format("{}", fmt::join(affected, ", "));
      if (total > affected.size()) list += fmt::format(" and {} more", total - affected.size());
      item.summary +=
          fmt::format(" (also affected: {} dependent check{})", total, total == 1 ? "" : "s");
      item.details = fmt::format("Also affected (they depend on {}): {}\n{}{}", check, list,
                                 item.details.empty() ? "" : "\n", item.details);
      item.labels.emplace_back("also_affected", std::to_string(total));
    }
  }
  return item;
}

void AlertRouter::OnEvent(const Event& e, const Observation& o,
                          const std::vector<ObservationLine>& recent) {
  const Info* info = InfoOf(e.check);
  if (!info || e.kind == EventKind::kAddressChanged || e.kind == EventKind::kRemedy) return;
  const WallTime now = clock_.Now();
  State& st = StateOf(e.check);
  switch (e.kind) {
    case EventKind::kStateChange: {
      const bool was_firing = st.firing;
      st.previous_since = e.from_since;
      if (!st.previous_since && st.since != WallTime{}) st.previous_since = st.since;
      st.status = e.to;
      st.latest = o.status;
      st.since = e.time;
      st.observations.assign(recent.begin(),
                             recent.begin() + std::min(recent.size(), kMaxObservations));
      st.summary = e.summary;
      st.details = CapUtf8(o.details, kMaxStoredDetails);
      st.firing = e.to != CheckStatus::kOk;
      if (st.firing && !was_firing) st.problem_since = e.time;
      if (!st.firing) {
        st.acked = false;
        st.ack_until.reset();
        st.ack_by.clear();
      }
      MarkDirty(e.check, now);
      // Dependants are held back or let go by this check's state.
      if (was_firing != st.firing)
        for (const auto& d : info->dependants)
          if (states_.count(d)) MarkDirty(d, now);
      break;
    }
    case EventKind::kFlappingStarted:
      st.flapping = true;
      st.flap_notice = 1;
      st.latest = e.to;
      MarkDirty(e.check, now);
      break;
    case EventKind::kFlappingStopped:
      st.flapping = false;
      st.latest = e.to;
      st.flap_notice = st.flap_told.empty() ? 0 : 2;
      MarkDirty(e.check, now);
      break;
    case EventKind::kAddressChanged:
    case EventKind::kRemedy:
      break;
  }
}

void AlertRouter::NoteSummarySent(std::string_view check,
                                  const std::vector<std::string>& channels) {
  auto it = states_.find(std::string(check));
  if (it == states_.end()) return;  // no state: not firing and nobody was told
  const Info* info = InfoOf(it->first);
  if (!info) return;
  State& st = it->second;
  const WallTime now = clock_.Now();
  for (const auto& ch : channels) {
    if (std::find(info->channels.begin(), info->channels.end(), ch) == info->channels.end())
      continue;
    if (st.firing) {
      Mark& m = st.marks[ch];
      if (m.first == WallTime{}) m.first = now;
      m.status = st.status;
      m.last = now;
    } else {
      st.marks.erase(ch);
    }
  }
  Touch(it->first);
}

void AlertRouter::OnChannelHealth(const std::vector<ChannelHealth>& health) {
  const WallTime now = clock_.Now();
  for (const auto& h : health) {
    const std::string name = std::string(kChannelCheckPrefix) + h.channel;
    if (!channel_infos_.count(name)) continue;
    const bool failing = h.consecutive_failures >= setup_.alerts.channel_failing_after;
    auto it = states_.find(name);
    const bool firing = it != states_.end() && it->second.firing;
    if (failing && !firing) {
      State& st = StateOf(name);
      st.firing = true;
      st.status = st.latest = CheckStatus::kCritical;
      st.since = st.problem_since = h.last_error_time.value_or(now);
      st.summary = fmt::format("{}: {} deliveries failed in a row; last: {}", h.describe,
                               h.consecutive_failures, h.last_error);
      st.details = fmt::format(
          "Notifications to channel '{}' are not getting through.\nLast error: {}\nUndelivered: "
          "{}{}\nThey are retried; see `mamori notify log --channel {}` for each attempt and the "
          "answer.",
          h.channel, h.last_error, h.pending,
          h.oldest_pending ? " (oldest from " + FormatWhen(*h.oldest_pending) + ")" : "",
          h.channel);
      MarkDirty(name, now);
    } else if (firing && h.consecutive_failures == 0) {
      State& st = it->second;
      st.firing = false;
      st.status = st.latest = CheckStatus::kOk;
      st.since = h.last_success_time.value_or(now);
      st.summary = fmt::format("{}: delivering again ({})", h.describe, h.last_answer);
      st.details.clear();
      st.acked = false;
      st.ack_until.reset();
      MarkDirty(name, now);
    }
  }
}

Result<AckView> AlertRouter::Ack(std::string_view check, std::optional<Duration> for_,
                                 std::string by) {
  const std::string name(check);
  if (!InfoOf(name)) return Error(fmt::format("no check named '{}'", name));
  auto it = states_.find(name);
  if (it == states_.end() || !it->second.firing)
    return Error(fmt::format("'{}' is not failing; there is nothing to acknowledge", name));
  State& st = it->second;
  const WallTime now = clock_.Now();
  st.acked = true;
  st.ack_until =
      for_ ? std::optional<WallTime>(now + std::chrono::duration_cast<WallTime::duration>(*for_))
           : std::nullopt;
  st.ack_by = std::move(by);
  st.ack_at = now;
  Touch(name);
  return AckView{name, st.ack_until, st.ack_by, st.ack_at};
}

Status AlertRouter::Unack(std::string_view check) {
  const std::string name(check);
  if (!InfoOf(name)) return Error(fmt::format("no check named '{}'", name));
  auto it = states_.find(name);
  if (it == states_.end() || !it->second.acked)
    return Error(fmt::format("'{}' is not acknowledged", name));
  it->second.acked = false;
  it->second.ack_until.reset();
  it->second.ack_by.clear();
  Touch(name);
  return Status::Ok();
}

std::vector<AckView> AlertRouter::Acks() const {
  std::vector<AckView> out;
  for (const auto& [name, st] : states_)
    if (st.acked) out.push_back({name, st.ack_until, st.ack_by, st.ack_at});
  std::sort(out.begin(), out.end(),
            [](const AckView& a, const AckView& b) { return a.check < b.check; });
  return out;
}

void AlertRouter::Reconcile(const std::string& check, WallTime now, bool sweep, Batch& out) {
  ReconcileState(check, now, sweep, out);
  auto it = states_.find(check);
  if (it != states_.end() && it->second.Trivial() && !dirty_.count(check)) {
    states_.erase(it);
    touched_.insert(check);  // its row goes
  }
}

void AlertRouter::ReconcileState(const std::string& check, WallTime now, bool sweep, Batch& out) {
  auto it = states_.find(check);
  if (it == states_.end()) return;
  State& st = it->second;
  const Info* info = InfoOf(check);
  if (!info) return;
  const bool maint = InMaintenance(check, now);
  const auto& alerts = setup_.alerts;
  auto emit = [&](const std::string& ch, Kind kind, Item item) {
    out[ch].emplace_back(kind, std::move(item));
    touched_.insert(check);
    held_checks_.insert(check);
  };

  if (st.flap_notice == 1 && !maint) {
    const CheckStatus shown = st.latest != CheckStatus::kOk ? st.latest
                              : st.firing                   ? st.status
                                                            : CheckStatus::kWarning;
    for (const auto& ch : info->channels) {
      if (!st.marks.count(ch) && !Passes(shown, alerts.Policy(ch).min_severity)) continue;
      if (Quiet(ch, shown)) continue;
      Item item = MakeItem(check, st, st.status, shown);
      item.summary =
          "flapping (changing state often; changes are not sent until it settles): " + item.summary;
      emit(ch, Kind::kFlapping, std::move(item));
      st.flap_told.insert(ch);
    }
    st.flap_notice = 0;
  } else if (st.flap_notice == 1) {
    st.flap_notice = 0;  // maintenance: nobody is told
  }
  if (st.flap_notice == 2 && !maint) {
    for (auto ch = st.flap_told.begin(); ch != st.flap_told.end();) {
      if (Quiet(*ch, st.status)) {
        ++ch;
        continue;
      }
      auto m = st.marks.find(*ch);
      Item item =
          MakeItem(check, st, m != st.marks.end() ? m->second.status : CheckStatus::kOk, st.status);
      item.summary = fmt::format("no longer flapping; now {}: {}", Label(st.status), item.summary);
      emit(*ch, Kind::kFlapping, std::move(item));
      if (st.firing) {
        Mark& mk = st.marks[*ch];
        if (mk.first == WallTime{}) mk.first = now;
        mk.status = st.status;
        mk.last = now;
      } else {
        st.marks.erase(*ch);
      }
      ch = st.flap_told.erase(ch);
    }
    if (st.flap_told.empty()) st.flap_notice = 0;
  }
  if (st.flapping || maint) return;

  if (sweep && st.acked && st.ack_until && now >= *st.ack_until) {
    st.acked = false;
    st.ack_until.reset();
    st.ack_by.clear();
    touched_.insert(check);
  }
  const bool blocked = st.firing && BlockedByDependency(*info);
  // Channels that were told: status changes and recoveries.
  for (auto m = st.marks.begin(); m != st.marks.end();) {
    const std::string& ch = m->first;
    if (!st.firing) {
      if (Quiet(ch, CheckStatus::kOk)) {
        ++m;
        continue;
      }
      emit(ch, Kind::kRecovery, MakeItem(check, st, m->second.status, CheckStatus::kOk));
      m = st.marks.erase(m);
      continue;
    }
    if (m->second.status != st.status && !blocked && !Quiet(ch, st.status)) {
      emit(ch, Kind::kProblem, MakeItem(check, st, m->second.status, st.status));
      m->second.status = st.status;
      m->second.last = now;
    }
    ++m;
  }
  if (!st.firing || blocked) return;
  // Channels that should know and do not.
  for (const auto& ch : info->channels) {
    if (st.marks.count(ch)) continue;
    if (!Passes(st.status, alerts.Policy(ch).min_severity) || Quiet(ch, st.status)) continue;
    emit(ch, Kind::kProblem, MakeItem(check, st, CheckStatus::kOk, st.status));
    st.marks[ch] = Mark{st.status, now, now, false};
  }
  if (!sweep || st.acked) return;
  // Reminders and escalation.
  std::vector<std::pair<std::string, std::string>> escalate;  // (target, from channel)
  for (auto& [ch, m] : st.marks) {
    const ChannelPolicy& p = alerts.Policy(ch);
    if (p.reminder_every > Duration(0) && now - m.last >= p.reminder_every &&
        !Quiet(ch, st.status)) {
      Item item = MakeItem(check, st, st.status, st.status);
      item.summary = fmt::format("still {} since {}: {}", Label(st.status),
                                 FormatWhen(st.problem_since), item.summary);
      emit(ch, Kind::kReminder, std::move(item));
      m.last = now;
    }
    if (p.escalate_after > Duration(0) && !m.escalated && now - m.first >= p.escalate_after) {
      m.escalated = true;
      touched_.insert(check);
      for (const auto& target : p.escalate_to) escalate.emplace_back(target, ch);
    }
  }
  const std::set<std::string> known(setup_.channels.begin(), setup_.channels.end());
  for (const auto& [target, from] : escalate) {
    if (st.marks.count(target) || !known.count(target)) continue;
    // Escalation ignores quiet hours and min_severity: that is its point.
    Item item = MakeItem(check, st, CheckStatus::kOk, st.status);
    item.summary =
        fmt::format("escalated: not acknowledged {} after it was sent to {}: {}",
                    FormatDuration(alerts.Policy(from).escalate_after), from, item.summary);
    emit(target, Kind::kProblem, std::move(item));
    st.marks[target] = Mark{st.status, now, now, true};
  }
}

std::vector<Outgoing> BuildNotifications(Decisions d) {
  std::vector<Outgoing> out;
  for (auto& [channel, pending] : d.by_channel) {
    // Changes (problems and recoveries) together; reminders and flapping
    // notices each in their own message, so the subject says what it is.
    std::map<int, std::vector<Item>> groups;  // 0 changes, 1 reminders, 2 flapping
    bool any_firing = false;
    for (auto& [kind, item] : pending) {
      const int g = kind == Kind::kReminder ? 1 : kind == Kind::kFlapping ? 2 : 0;
      if (g == 0 && item.firing()) any_firing = true;
      groups[g].push_back(std::move(item));
    }
    for (auto& [g, items] : groups) {
      // Problems first, worst first, then by name: the top of the list is
      // what to look at.
      std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        if (Severity(a.to) != Severity(b.to)) return Severity(a.to) > Severity(b.to);
        return a.check < b.check;
      });
      const Kind kind = g == 1       ? Kind::kReminder
                        : g == 2     ? Kind::kFlapping
                        : any_firing ? Kind::kProblem
                                     : Kind::kRecovery;
      for (size_t i = 0; i < items.size(); i += kMaxItems) {
        Outgoing o;
        o.notification.id = NewNotificationId();
        o.notification.kind = kind;
        o.notification.time = d.time;
        o.notification.host = d.host;
        const size_t end = std::min(items.size(), i + kMaxItems);
        o.notification.items.assign(std::make_move_iterator(items.begin() + i),
                                    std::make_move_iterator(items.begin() + end));
        o.channels.push_back(channel);
        out.push_back(std::move(o));
      }
    }
  }
  return out;
}

Decisions AlertRouter::Decide() {
  const WallTime now = clock_.Now();
  quiet_now_.clear();
  for (const auto& ch : setup_.channels) {
    const auto& q = setup_.alerts.Policy(ch).quiet_hours;
    if (q) quiet_now_[ch] = q->Contains(now);
  }
  if (flushing_.empty() && sweeping_.empty()) {
    if (flush_at_ && now >= *flush_at_) {
      flushing_.assign(dirty_.begin(), dirty_.end());
      dirty_.clear();
      flush_at_.reset();
    } else if (now >= next_sweep_) {
      next_sweep_ = now + kSweepEvery;
      sweeping_.reserve(states_.size());
      for (const auto& [name, st] : states_)
        if (!dirty_.count(name)) sweeping_.push_back(name);
    }
  }
  // One slice of the current round; names are taken from the back.
  const bool sweep = flushing_.empty();
  auto& work = sweep ? sweeping_ : flushing_;
  for (size_t n = 0; n < kSlice && !work.empty(); ++n) {
    std::string name = std::move(work.back());
    work.pop_back();
    // A check made dirty again meanwhile waits for its own group.
    if (sweep && dirty_.count(name)) continue;
    Reconcile(name, now, sweep, held_);
  }
  Decisions d;
  if (!flushing_.empty() || !sweeping_.empty()) return d;  // the round goes on
  d.time = now;
  d.host = setup_.host;
  d.by_channel.swap(held_);
  held_checks_.clear();
  return d;
}

Decisions AlertRouter::FinishRound() {
  Decisions d = Decide();
  while (!flushing_.empty() || !sweeping_.empty()) d = Decide();
  return d;
}

std::string AlertRouter::ToRow(const State& st) const {
  nlohmann::json j;
  j["firing"] = st.firing;
  j["status"] = StatusName(st.status);
  j["latest"] = StatusName(st.latest);
  j["since_ms"] = ToUnixMillis(st.since);
  j["problem_since_ms"] = ToUnixMillis(st.problem_since);
  j["summary"] = st.summary;
  j["details"] = st.details;
  nlohmann::json marks = nlohmann::json::object();
  for (const auto& [ch, m] : st.marks)
    marks[ch] = {{"status", StatusName(m.status)},
                 {"first_ms", ToUnixMillis(m.first)},
                 {"last_ms", ToUnixMillis(m.last)},
                 {"escalated", m.escalated}};
  j["marks"] = std::move(marks);
  if (st.acked) {
    j["ack"] = {{"by", st.ack_by}, {"at_ms", ToUnixMillis(st.ack_at)}};
    if (st.ack_until) j["ack"]["until_ms"] = ToUnixMillis(*st.ack_until);
  }
  j["flapping"] = st.flapping;
  j["flap_notice"] = st.flap_notice;
  j["flap_told"] = st.flap_told;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>> AlertRouter::TakeDirtyRows(size_t max) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.reserve(std::min(max, touched_.size()));
  for (auto name = touched_.begin(); name != touched_.end() && rows.size() < max;) {
    if (held_checks_.count(*name)) {
      ++name;
      continue;
    }
    auto it = states_.find(*name);
    rows.emplace_back(*name, it == states_.end() ? std::string() : ToRow(it->second));
    name = touched_.erase(name);
  }
  return rows;
}

void AlertRouter::Restore(const std::vector<std::pair<std::string, std::string>>& rows) {
  for (const auto& [name, text] : rows) {
    if (!InfoOf(name)) {
      touched_.insert(name);  // a check that is gone: drop its row
      continue;
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) continue;
    // A damaged row is skipped, not fatal: the worst outcome is one alert
    // sent again.
    try {
      State st;
      st.firing = j.value("firing", false);
      st.status = ParseStatus(j.value("status", "ok")).value_or(CheckStatus::kOk);
      st.latest = ParseStatus(j.value("latest", "ok")).value_or(CheckStatus::kOk);
      st.since = FromUnixMillis(j.value("since_ms", int64_t{0}));
      st.problem_since = FromUnixMillis(j.value("problem_since_ms", int64_t{0}));
      st.summary = j.value("summary", "");
      st.details = j.value("details", "");
      if (j.contains("marks") && j["marks"].is_object()) {
        for (const auto& [ch, m] : j["marks"].items()) {
          Mark mk;
          mk.status = ParseStatus(m.value("status", "critical")).value_or(CheckStatus::kCritical);
          mk.first = FromUnixMillis(m.value("first_ms", int64_t{0}));
          mk.last = FromUnixMillis(m.value("last_ms", int64_t{0}));
          mk.escalated = m.value("escalated", false);
          st.marks[ch] = mk;
        }
      }
      if (j.contains("ack") && j["ack"].is_object()) {
        st.acked = true;
        st.ack_by = j["ack"].value("by", "");
        st.ack_at = FromUnixMillis(j["ack"].value("at_ms", int64_t{0}));
        if (j["ack"].contains("until_ms"))
          st.ack_until = FromUnixMillis(j["ack"].value("until_ms", int64_t{0}));
      }
      st.flapping = j.value("flapping", false);
      st.flap_notice = j.value("flap_notice", 0);
      if (j.contains("flap_told") && j["flap_told"].is_array())
        for (const auto& ch : j["flap_told"])
          if (ch.is_string()) st.flap_told.insert(ch.get<std::string>());
      states_[name] = std::move(st);
    } catch (const nlohmann::json::exception&) {
      continue;
    }
  }
  Configure(setup_, [&] {
    std::vector<CheckInfo> checks;
    for (const auto& [n, info] : infos_) checks.push_back(info.check);
    return checks;
  }());
}

void AlertRouter::Seed(std::string_view check, std::optional<CheckStatus> hard, WallTime since,
                       const std::string& summary) {
  const std::string name(check);
  if (!InfoOf(name) || !hard) return;
  const WallTime now = clock_.Now();
  auto it = states_.find(name);
  const bool firing = *hard != CheckStatus::kOk;
  if (it == states_.end()) {
    if (!firing) return;
    it = states_.emplace(name, State{}).first;
  }
  State& st = it->second;
  if (firing) {
    if (!st.firing) st.problem_since = since;
    st.firing = true;
    if (st.status != *hard || st.summary.empty()) st.summary = summary;
    st.status = st.latest = *hard;
    st.since = since;
  } else if (st.firing) {
    st.firing = false;
    st.status = st.latest = CheckStatus::kOk;
    st.since = since;
    st.summary = summary;
    st.acked = false;
    st.ack_until.reset();
  }
  MarkDirty(name, now);
}

size_t AlertRouter::firing_count() const {
  size_t n = 0;
  for (const auto& [name, st] : states_) n += st.firing;
  return n;
}

bool AlertRouter::IsFiring(std::string_view check) const {
  auto it = states_.find(std::string(check));
  return it != states_.end() && it->second.firing;
}

}  // namespace mamori::notify
