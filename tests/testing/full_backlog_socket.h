// A real listening Unix socket whose listen backlog is full: the state of a
// PHP-FPM pool with every worker busy. It listens with backlog 0, never
// accepts, and holds enough pending client connections that the kernel
// queues no more: a blocking connect() now sleeps until this object is
// destroyed, a non-blocking one fails with EAGAIN.
//
// Owns the listening socket, its file and the queued clients; closing them
// (destructor) wakes every connect still waiting on it. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace mamori::testing {

class FullBacklogSocket {
 public:
  // Null (and `error` says why) when the socket cannot be made or never
  // fills up.
  static std::unique_ptr<FullBacklogSocket> Start(const std::string& path, std::string* error);
  ~FullBacklogSocket();
  FullBacklogSocket(const FullBacklogSocket&) = delete;
  FullBacklogSocket& operator=(const FullBacklogSocket&) = delete;

 private:
  FullBacklogSocket() = default;
  std::string path_;
  int listener_ = -1;
  std::vector<int> clients_;
};

}  // namespace mamori::testing
