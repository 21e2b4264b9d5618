// The acknowledgements the daemon last saved in <data_dir>/alerts.db, read
// without the daemon (for `mamori status`, which works whether or not it
// runs). Opens the file read-only and never writes it. Failure: an Error
// when the file exists but cannot be read; no file means no acks. Pure
// apart from the read; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "mamori/notify/router.h"
#include "mamori/util/result.h"

namespace mamori::notify {

// Acknowledgements still in force at `now` (an expired `for` is left out).
Result<std::vector<AckView>> StoredAcks(const std::string& data_dir, WallTime now);

}  // namespace mamori::notify
