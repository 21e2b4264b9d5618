// `mamori notify log`: what the outbox did, read from <data_dir>/outbox.db.
// Every delivery attempt with the receiver's exact answer (newest first), then
// what is still waiting per channel, so "were the failure mails ever
// delivered?" has an answer without reading SQLite by hand.
//
// The file is opened read-only and without the outbox's lock, so this works
// while `mamori run` holds it. Failure (no outbox.db, unreadable file) is a
// message on `err` and exit code 3; nothing is ever written.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

namespace mamori::notify {

struct NotifyLogOptions {
  std::string data_dir;
  std::string channel;  // empty: every channel
  size_t limit = 50;    // attempts shown, newest first
  bool json = false;
};

// Exit code: 0 when the latest attempt of every channel shown was delivered
// (or there were none), 2 when a channel's latest attempt failed, 3 when the
// outbox cannot be read.
int RunNotifyLog(const NotifyLogOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mamori::notify
