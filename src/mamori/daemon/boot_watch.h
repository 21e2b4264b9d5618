// BootWatch: the daemon's side of the boot record (boot_record.h). At start
// it tells a new kernel boot from a restart on the same one and builds the
// boot event, with how the previous boot ended (the journal's word where it
// keeps that boot, else mamori's own "stopped" mark); while running it keeps
// the record's last-seen time fresh (once a minute); at a clean stop it marks
// the record "stopped".
//
// Ownership: the daemon owns one. Threading: event loop only. Failure: a
// record that cannot be read or written is logged once per attempt and the
// boot is not recorded (a watchdog must run without it).
#pragma once

#include <optional>
#include <string>

#include "mamori/core/event.h"
#include "mamori/util/clock.h"

namespace mamori {

class BootWatch {
 public:
  explicit BootWatch(const Clock& clock) : clock_(clock) {}

  // Reads the kernel's boot id and the record in `data_dir`. The boot event
  // when this is a new boot; nullopt on the same boot, on the first start of
  // all, or when the record cannot be used.
  std::optional<Event> Start(const std::string& data_dir);
  // From housekeeping: refreshes the last-seen time when a minute has passed.
  void Tick();
  // The daemon stops cleanly.
  void CleanStop();

 private:
  const Clock& clock_;
  std::string data_dir_;
  std::string boot_id_;  // empty: boots are not recorded
  MonoTime next_touch_{};
};

}  // namespace mamori
