// `mamori notify test [CHANNEL]`: sends a test notification through each
// configured channel (or the one named) right away, without the outbox, and
// prints each receiver's answer, so an operator sees "550 5.7.1 ... DMARC"
// at setup time instead of months later. Blocking; one channel at a time.
#pragma once

#include <ostream>
#include <string>

#include "mamori/notify/notify_config.h"

namespace mamori::notify {

// Exit code: 0 when every channel accepted, 2 when any failed, 3 when there
// is nothing to test (no channels, unknown name).
int RunNotifyTest(const NotifyConfig& config, const std::string& only, std::ostream& out,
                  std::ostream& err);

}  // namespace mamori::notify
