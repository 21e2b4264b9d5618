// `mamori backup verify [--json] PATH...`: judges each backup artifact by its
// content (see verify.h) and prints one line per artifact,
//   STATUS path (format): summary
// or with --json an array of {path, format, status, summary, details}.
// The exit code is the worst status (0 ok, 1 warning, 2 critical, 3 unknown,
// with CRITICAL outranking UNKNOWN); 64 for usage errors.
//
// The CLI layer only declares the options (AddVerifyCommand) and calls
// RunVerifyCommand, which takes plain streams so it is testable without a
// process. Stateless; artifacts are verified one after another.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mamori::backup {

struct VerifyCommandArgs {
  std::vector<std::string> paths;
  bool json = false;
  bool sha256 = false;               // also print each file's SHA-256
  bool no_manifest = false;          // ignore SHA256SUMS beside the artifacts
  bool allow_newer_pg_dump = false;  // pg_dump newer than the server is OK
};

// Adds the `verify` subcommand to `backup` with its options bound to `args`.
CLI::App* AddVerifyCommand(CLI::App* backup, VerifyCommandArgs* args);

int RunVerifyCommand(const VerifyCommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace mamori::backup
