// Remedies: the safe repairs mamori may make by itself when a check goes
// hard-failing, each one guarded so it cannot make things worse. Incidents 1
// and 3 are why: a stale PHP-FPM socket and a stale mod_python mutex kept
// services down after a crash until someone removed a file by hand.
//
// A check's `remedy:` lists steps, run in order until one fails. Each step
// type is one file, <key>_remedy.cc, defining
// mamori::remedies::<key>::Register(StepRegistry&); the composition
// (daemon/builtin_remedy_steps.h) builds the registry from all of them:
//   remove_stale_socket: PATH  removes a Unix socket only when connecting to
//                              it is refused (nobody listens: it is stale);
//                              a live socket is left alone.
//   remove_unused_files: GLOB  removes matching regular files and sockets
//                              that no process uses (open descriptors, memory
//                              mappings, executables, working directories,
//                              through /proc/*), so a lock or mutex still in
//                              use is never touched. If any process cannot be
//                              seen it removes nothing. Symlinks are never
//                              followed below the pattern's literal directory.
//                              The pattern must lie under /run, /var/run,
//                              /run/lock, /var/lock, /tmp or /var/tmp unless
//                              the step says allow_outside_runtime_dirs: true.
//   command: [ARGV...]         runs a program (no shell), e.g. a service
//                              restart; exit code 0 is success.
// and is rate-limited: at most max_attempts runs within `window` (default 3
// per hour), so a remedy that does not help stops being tried and a human is
// told instead. Nothing here runs unless configured.
//
// Execute() blocks (file system, /proc scans, child processes) and belongs on the
// worker pool; Plan and its step actions are immutable and shared; Guard is
// not thread-safe (one per check, used from the daemon's loop). Failures are
// outcomes, never exceptions: every step reports what it did or why it did
// nothing.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/config/node.h"
#include "mamori/util/clock.h"

namespace mamori::remedy {

struct Plan;

struct StepOutcome {
  std::string step;  // "remove_stale_socket /run/php/fpm.sock"
  bool ok = false;
  std::string detail;  // what happened: "removed", "live: left alone", output
};

// One configured step, read and validated at load time. Run() blocks and
// never throws; `plan` supplies the settings shared by all steps (command
// timeout, proc root).
class StepAction {
 public:
  virtual ~StepAction() = default;
  // How the step reads in events: "remove_stale_socket /run/x.sock", or a
  // command's argv.
  virtual std::string Describe() const = 0;
  virtual StepOutcome Run(const Plan& plan) const = 0;
};

// Reads a step whose action key is this type's (the step's other keys are
// the type's options). Null when unusable, the errors added to `step`'s
// diagnostics with hints.
using StepReader = std::unique_ptr<StepAction> (*)(config::ConfigNode& step);

struct StepType {
  const char* key;       // the action key: "remove_stale_socket"
  const char* argument;  // its value in hints: "PATH"
  const char* description;
  StepReader reader;
  // Keys only this type's steps may carry ("allow_outside_runtime_dirs");
  // on any other step they are an error naming this type.
  std::vector<std::string> options = {};
};

// The remedy steps a configuration may use. Filled once, then read-only.
class StepRegistry {
 public:
  void Add(StepType type) { types_.push_back(std::move(type)); }
  const StepType* Find(std::string_view key) const {
    for (const auto& t : types_)
      if (key == t.key) return &t;
    return nullptr;
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& t : types_) keys.emplace_back(t.key);
    return keys;
  }
  const std::vector<StepType>& types() const { return types_; }

 private:
  std::vector<StepType> types_;
};

struct Plan {
  std::vector<std::shared_ptr<const StepAction>> steps;
  int max_attempts = 3;
  Duration window = std::chrono::hours(1);
  Duration command_timeout = std::chrono::seconds(60);
  std::string proc_root = "/proc";  // for tests of the open-file scan
};

// Reads the optional `remedy:` mapping of a check, each step through the
// registered type whose key it carries. Null when absent or invalid (errors
// are added to the node's diagnostics with hints).
std::shared_ptr<const Plan> ReadPlan(config::ConfigNode& check, const StepRegistry& steps);

struct Outcome {
  bool ok = true;
  std::vector<StepOutcome> steps;
  // One line: "remedy ok: removed stale socket /run/x.sock; systemctl restart
  // php-fpm exited 0" or "remedy failed at step 2: ...".
  std::string Summary() const;
};

Outcome Execute(const Plan& plan);

// Sockets: true when connecting is refused (the file outlived its server).
// `why` says what was found either way.
bool SocketIsStale(const std::string& path, std::string* why);

// Of `paths`, those that some process under proc_root uses (an open
// descriptor, a memory mapping, its executable or working directory).
// Processes that cannot be read (another user's, without privilege) or seen
// (hidepid, a PID namespace of mamori's own) make the answer unknown:
// `unknown` is set so callers can refuse to guess.
std::vector<std::string> OpenByAnyProcess(const std::vector<std::string>& paths,
                                          const std::string& proc_root, bool* unknown);

// Rate limit of one check's remedy. Every check has one, and most never
// repair anything: an empty Guard holds no heap memory (a std::deque
// allocated 576 bytes up front, per check), and the attempts it keeps are
// bounded by the plan's max_attempts (at most 100).
class Guard {
 public:
  // True when another attempt is allowed at `now`; if so it is recorded.
  bool TryAcquire(const Plan& plan, WallTime now);
  size_t attempts_in_window(const Plan& plan, WallTime now);
  // Attempts remembered (those of the last window seen), for tests.
  size_t remembered() const { return attempts_.size(); }

 private:
  std::vector<WallTime> attempts_;  // oldest first
};

}  // namespace mamori::remedy
