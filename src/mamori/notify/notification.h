// Notification: one message to people or systems about state changes of
// checks: a problem, a recovery, a reminder, flapping, a test, or the summary
// after a maintenance window. It is a plain value that the outbox stores as
// JSON before anything is sent, so it must carry everything a channel needs
// to render it (no lookups at delivery time, which may be hours later and
// after a restart).
//
// A notification has a stable id (receivers de-duplicate on it: it becomes
// the e-mail Message-ID and the JSON "id"; Alertmanager de-duplicates on
// labels instead) and one or more items, so one e-mail can list many changes
// at once (grouping is the caller's choice).
//
// Pure values and pure functions; thread-safe as values are. Parsing stored
// JSON never throws: a malformed payload is an Error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mamori/core/status.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::notify {

enum class Kind { kProblem, kRecovery, kReminder, kFlapping, kTest, kAfterMaintenance, kAfterBoot };

// "problem", "recovery", "reminder", "flapping", "test", "after-maintenance",
// "after-boot".
std::string_view KindName(Kind k);
std::optional<Kind> ParseKind(std::string_view name);

// One earlier result of the check, shown as evidence ("the last observations").
struct ObservationLine {
  WallTime time{};
  CheckStatus status = CheckStatus::kUnknown;
  std::string summary;
};

// One check's change.
struct Item {
  std::string check;
  std::string type;  // check type, e.g. "http"; may be empty
  CheckStatus from = CheckStatus::kOk;
  CheckStatus to = CheckStatus::kOk;
  std::string summary;  // one line: what is wrong (or that it is fine again)
  std::string details;  // longer text (plugin long output, log lines); may be empty
  WallTime since{};     // when `to` began
  // When `from` began: for a recovery, the start of the problem (Alertmanager's
  // startsAt, "was CRITICAL for 3h"). Optional.
  std::optional<WallTime> previous_since;
  std::vector<ObservationLine> observations;                // newest first
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. tags; exported as-is

  bool firing() const { return to != CheckStatus::kOk; }
};

struct Notification {
  std::string id;  // stable across retries and restarts; see NewNotificationId()
  Kind kind = Kind::kProblem;
  WallTime time{};          // when it was decided (not when it is delivered)
  std::string host;         // the machine mamori runs on, for people reading it elsewhere
  std::vector<Item> items;  // at least one, except for kTest
};

// A random 128-bit id as a UUID string (version 4).
std::string NewNotificationId();

// Limits on what a notification may carry, so one runaway plugin output cannot
// make a 100 MB e-mail: enforced by Clamp(), which the outbox calls on enqueue.
inline constexpr size_t kMaxItems = 500;
inline constexpr size_t kMaxSummaryBytes = 1000;
inline constexpr size_t kMaxDetailsBytes = 16 * 1024;
inline constexpr size_t kMaxObservations = 20;
void Clamp(Notification& n);

// Cuts at a UTF-8 boundary and appends "..." when cut.
std::string CapUtf8(std::string s, size_t max_bytes);

// "CRITICAL: backup-db (was OK)", "RECOVERED: backup-db is OK (was CRITICAL
// for 3h 5m)", "3 changes: backup-db CRITICAL, web OK, ...". No prefix.
std::string Title(const Notification& n);
// The plain-text body (LF line ends): per item what failed, since when, the
// details and the last observations; then host and id.
std::string TextBody(const Notification& n);
// "2026-01-01 03:00:00 UTC".
std::string FormatWhen(WallTime t);
// RFC 3339 with milliseconds: "2026-01-01T03:00:00.000Z".
std::string Rfc3339(WallTime t);
Result<WallTime> ParseRfc3339(std::string_view s);

// The JSON shape (documented in docs/notify.md) stored in the outbox, given to
// `command` on stdin and posted by a `webhook` without template. With
// `rendered`, adds "title" and "text" for receivers that just show them.
nlohmann::json ToJson(const Notification& n, bool rendered = false);
Result<Notification> FromJson(const nlohmann::json& j);

}  // namespace mamori::notify
