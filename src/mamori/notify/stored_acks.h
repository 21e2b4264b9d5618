// The acknowledgements the daemon last saved in <data_dir>/alerts.db, read
// without the daemon (for `mamori status` and `mamori report`, which work
// whether or not it runs): those in force, and the log of every one given or
// withdrawn (table ack_log, written by AlertService). Opens the file read-only and never writes it.
// Failure: an Error when the file exists but cannot be read; no file means no acks. Pure apart from
// the read; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mamori/notify/router.h"
#include "mamori/util/result.h"

namespace mamori::notify {

// Acknowledgements still in force at `now` (an expired `for` is left out).
Result<std::vector<AckView>> StoredAcks(const std::string& data_dir, WallTime now);

// One line of the acknowledgement log.
struct AckRecord {
  std::string check;
  WallTime at{};
  std::string by;
  std::optional<WallTime> until;  // nullopt: until the check recovers
  bool withdrawn = false;         // `mamori ack --remove`
};

// The newest `limit` lines of the log from `since` on, oldest first. A file
// written before the log existed (or none) gives an empty log.
Result<std::vector<AckRecord>> StoredAckLog(const std::string& data_dir, WallTime since,
                                            size_t limit);

}  // namespace mamori::notify
