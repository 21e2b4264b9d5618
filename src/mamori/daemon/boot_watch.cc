#include "mamori/daemon/boot_watch.h"

#include <spdlog/spdlog.h>

#include "mamori/daemon/boot_record.h"
#include "mamori/logs/journal_boots.h"

namespace mamori {

std::optional<Event> BootWatch::Start(const std::string& data_dir) {
  auto id = ReadBootId();
  if (!id.ok()) {
    spdlog::warn("{}; boots are not recorded", id.error().message());
    return std::nullopt;
  }
  auto previous = NoteBoot(data_dir, *id, clock_.Now());
  if (!previous.ok()) {
    spdlog::warn("{}; boots are not recorded", previous.error().message());
    return std::nullopt;
  }
  data_dir_ = data_dir;
  boot_id_ = *id;
  next_touch_ = clock_.Monotonic() + std::chrono::minutes(1);
  if (!*previous) return std::nullopt;
  PreviousBoot prev = **previous;
  // The journal's word on how the previous boot ended, where it keeps it.
  if (auto jb = logs::FindJournalBoot(prev.boot_id); jb.ok() && *jb)
    prev.journal_shutdown = (*jb)->shutdown_started;
  return BootEvent(prev, boot_id_, clock_.Now());
}

void BootWatch::Tick() {
  if (boot_id_.empty() || clock_.Monotonic() < next_touch_) return;
  next_touch_ = clock_.Monotonic() + std::chrono::minutes(1);
  if (auto r = TouchBoot(data_dir_, boot_id_, clock_.Now()); !r.ok())
    spdlog::warn("{}", r.error().message());
}

void BootWatch::CleanStop() {
  // The last-seen time is exact, and the next boot knows mamori was stopped
  // rather than cut off.
  if (boot_id_.empty()) return;
  if (auto r = MarkCleanStop(data_dir_, boot_id_, clock_.Now()); !r.ok())
    spdlog::warn("{}", r.error().message());
}

}  // namespace mamori
