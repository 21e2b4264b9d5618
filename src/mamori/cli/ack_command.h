// `mamori ack NAME [--for 2h] [--remove] [-c CONFIG]`: acknowledges a failing
// check in the running daemon (no reminders or escalation until it recovers
// or the time given with --for passes), withdraws that with --remove, and
// lists the acknowledgements when no NAME is given. It talks to the daemon's
// HTTP API at the configuration's `listen:` address (/api/v1/ack, see
// alert_service.h), sending api.read_key when the configuration has one.
//
// Exit codes: 0 done, 1 refused by the daemon (no such check, not failing),
// 3 the daemon could not be reached or the configuration is unusable,
// 64 usage. Every message says what to do next.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>

namespace mamori::notify {

struct AckOptions {
  CLI::App* command = nullptr;  // the subcommand, for `if (*command)`
  std::string check;
  std::string config_file;
  std::string for_;
  bool remove = false;
  std::string by;  // default: $USER@host
};

// Adds the `ack` subcommand to `app`; the returned options are filled by
// app.parse() (keep them alive until then).
void AddAckCommand(CLI::App& app, AckOptions& options);
int RunAckCommand(const AckOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mamori::notify
