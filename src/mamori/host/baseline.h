// The baseline: what this host normally has, so that after a reboot or a
// maintenance mamori can name what did not come back without anyone having
// written a check for it. Four kinds of items, each with a name an operator
// recognises:
//   listener  "443/tcp" (detail: the owning process, "nginx")
//   process   "/usr/sbin/cron" (an executable with a long-running process)
//   unit      "nginx.service" (an active systemd unit)
//   mount     "/srv/backup" (detail: the filesystem type, "nfs")
//
// This file holds the pure parts: reading a snapshot from an injected /proc
// root (the systemd units are read by the caller through sd-bus and passed in
// as records), the diff of a baseline against a snapshot with its human text,
// and the Learner that admits an item only after it was seen continuously
// while the host was healthy for the learning period. Persistence is in
// baseline_file.h.
//
// Not everything seen may be learned: UDP sockets on ephemeral ports (clients),
// TCP listeners on ephemeral ports whose owner is unknown or younger than
// `min_owner_age`, processes younger than `min_age`, processes with a terminal (a
// login session's shell and what it runs), kernel threads, and transient or
// per-session units (scopes, slices, run-*, user@*, per-connection instances)
// are in a snapshot only as "present, not learnable".
//
// Plain values and functions; Learner is not thread-safe (its owner, one
// probe, never runs concurrently with itself). Unreadable /proc entries are
// skipped (processes come and go); every list is bounded.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mamori/host/systemd_units.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::host::baseline {

enum class Kind { kListener = 0, kProcess = 1, kUnit = 2, kMount = 3 };
inline constexpr std::array<Kind, 4> kAllKinds = {Kind::kListener, Kind::kProcess, Kind::kUnit,
                                                  Kind::kMount};

// "listener", "process", "unit", "mount".
std::string_view KindName(Kind k);
// Accepts the singular and the plural ("listeners", as `include:` spells them).
std::optional<Kind> ParseKind(std::string_view s);

struct Item {
  Kind kind = Kind::kListener;
  std::string name;
  std::string detail;
  // Present now, but not to be learned (see the header comment).
  bool learnable = true;

  std::pair<Kind, std::string_view> Key() const { return {kind, name}; }
  friend bool operator<(const Item& a, const Item& b) { return a.Key() < b.Key(); }
};

// What one look at the host found: `items` sorted by (kind, name), one per
// key; `read[kind]` is false for a kind not included or not readable this
// time (its baseline items then count neither as present nor as missing),
// with the reason in `problems`.
struct Snapshot {
  std::vector<Item> items;
  std::array<bool, 4> read{};
  std::vector<std::string> problems;
};

struct SnapshotOptions {
  std::string proc_root = "/proc";
  std::array<bool, 4> include = {true, true, true, true};  // indexed by Kind
  // Processes younger than this are not learnable; nor are listeners on
  // ephemeral ports whose owner is younger than min_owner_age.
  Duration min_age = std::chrono::minutes(5);
  Duration min_owner_age = std::chrono::minutes(5);
  size_t max_pids = 32768;  // processes looked at
  size_t max_per_kind = 2000;
};

bool Includes(const SnapshotOptions& o, Kind k);

// The parts, each also usable alone (tests feed them crafted trees).
Result<std::vector<Item>> ReadListeners(const SnapshotOptions& o);
Result<std::vector<Item>> ReadProcesses(const SnapshotOptions& o);
std::vector<Item> UnitItems(const std::vector<systemd::UnitRecord>& units, size_t max);
std::vector<Item> MountItems(const std::string& mountinfo_text, size_t max);
// A unit not to learn: one that exists only for a session, a connection or a
// command, and the kinds covered otherwise (mounts) or too coarse (targets).
bool IsUnlearnableUnitName(const std::string& name);

// Every included kind: listeners and processes from o.proc_root, mounts from
// <proc_root>/self/mountinfo, units from `units` (an Error where systemd could
// not be read, nullopt where there is none: then units are not read).
Snapshot TakeSnapshot(const SnapshotOptions& o,
                      const std::optional<Result<std::vector<systemd::UnitRecord>>>& units);

// "443/tcp (nginx) was listening and is not now", "/srv/backup (nfs) is not
// mounted", "nginx.service was active and is not now", "process
// /usr/sbin/cron is not running".
std::string MissingText(const Item& item);

// The baseline items of a kind `now` read with no item of the same key in
// `now`, in baseline order.
std::vector<Item> Missing(const std::vector<Item>& baseline, const Snapshot& now);

// Admits an item once it has been in every snapshot, while healthy, for
// `learn_after`. An unhealthy observation forgets every candidate: a baseline
// never learns while something is failing.
class Learner {
 public:
  // Returns the learnable items of `now` seen continuously for at least
  // `learn_after` (by `t`), leaving out those `known(item)` says the
  // baseline already has.
  template <class Known>
  std::vector<Item> Observe(const Snapshot& now, bool healthy, MonoTime t, Duration learn_after,
                            Known known) {
    std::vector<Item> due = Track(now, healthy, t, learn_after);
    std::erase_if(due, [&](const Item& i) { return known(i); });
    return due;
  }
  void Reset() { since_.clear(); }
  size_t candidates() const { return since_.size(); }

 private:
  std::vector<Item> Track(const Snapshot& now, bool healthy, MonoTime t, Duration learn_after);
  std::map<std::pair<Kind, std::string>, MonoTime> since_;
};

}  // namespace mamori::host::baseline
