// The notifications the outbox holds (<data_dir>/outbox.db), read without the
// daemon for `mamori report`: which checks each one named (from the stored
// notification itself, so rows written by any release are read alike), what
// kind it was, to which channel, and whether and when it was delivered.
//
// Opens the file read-only and never writes it, so it works while the
// daemon's Outbox holds the file. Bounded by `limit` rows; a row whose stored
// notification cannot be read is skipped (the outbox expires it too). No file
// means no notifications. Pure apart from the read; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mamori/notify/notification.h"
#include "mamori/util/result.h"

namespace mamori::notify {

struct StoredDelivery {
  std::string id;  // the notification's id (one per notification, shared by its channels)
  std::string channel;
  Kind kind = Kind::kProblem;
  std::string title;                                       // Title() of the notification
  std::vector<std::pair<std::string, std::string>> items;  // check, summary
  std::string state;                                       // pending, sending, delivered, expired
  int attempts = 0;
  WallTime created{};
  std::optional<WallTime> done;  // delivered or given up
  std::string last_answer;       // the receiver's answer or the error
  bool Names(std::string_view check) const;
};

// The newest `limit` rows created at or after `since`, oldest first.
Result<std::vector<StoredDelivery>> StoredDeliveries(const std::string& data_dir, WallTime since,
                                                     size_t limit);

}  // namespace mamori::notify
