// ChronydServer: a real chronyd started for one test as an NTP server on
// 127.0.0.1 (a free UDP port, no command port, `-x` so it never touches this
// machine's clock), serving its local clock at stratum 8. With a `shift` such
// as "+3h" it runs under libfaketime, so the time it serves is that far from
// ours: the replay of a clock that stood still through a maintenance window.
//
// Ownership: the object owns the process and its temp directory; the
// destructor stops it. Not thread-safe; one per test.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace mamori::testing {

class ChronydServer {
 public:
  // Null (with the reason and chronyd's output in `error`) when chronyd or
  // faketime is missing or it does not answer within 10 s.
  static std::unique_ptr<ChronydServer> Start(const std::string& shift, std::string* error);
  ~ChronydServer();

  // "127.0.0.1:PORT", as the `server` key of a timesync check takes it.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  ChronydServer() = default;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mamori::testing
