// Helpers for tests that drive the real `mamori` binary: a temp directory,
// one-shot runs with captured output, and a daemon started in the background
// whose log can be polled.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace mamori::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name,
                    const std::string& content) const;  // returns the full path

 private:
  std::string path_;
};

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs build/mamori with `args` and waits (at most 60 s).
CliResult RunMamori(const std::vector<std::string>& args);
// Same, with `stdin_data` as its standard input.
CliResult RunMamori(const std::vector<std::string>& args, const std::string& stdin_data);

// `mamori run ...` in the background with stderr+stdout to a log file;
// `env` adds "NAME=value" entries to its environment (e.g. LD_PRELOAD).
class DaemonProcess {
 public:
  // `wrapper`, when given, is the command line that execs `mamori run ARGS`
  // (appended to it), e.g. one that enters a namespace first.
  DaemonProcess(const std::vector<std::string>& args, const std::string& log_path,
                const std::vector<std::string>& env = {},
                const std::vector<std::string>& wrapper = {});
  ~DaemonProcess();  // SIGKILL if still running
  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Waits for the process to exit; returns its exit code, or -1 on timeout.
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(20));
  std::string Log() const;
  // Polls the log until it contains `text` (true) or the timeout passes.
  bool WaitForLog(const std::string& text,
                  std::chrono::seconds timeout = std::chrono::seconds(20)) const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  bool reaped_ = false;
};

// Polls `condition` every 20 ms until true or the timeout passes.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace mamori::testing
