// InstanceLock: at most one daemon per data directory. Two daemons writing
// the same store would double every notification and fight over heartbeat
// state, so `mamori run` takes an exclusive flock on <data_dir>/mamori.pid
// (and writes its pid there, for people and init scripts) before it opens
// anything else. The kernel drops the lock when the process dies, even by
// SIGKILL, so a stale file never blocks a restart.
//
// Ownership: the lock lives as long as the InstanceLock value (move-only).
// Not thread-safe; one per process. Failure: an Error naming the running pid
// when another process holds the lock, or the OS error otherwise.
#pragma once

#include <optional>
#include <string>

#include "mamori/util/result.h"

namespace mamori {

// The pid of the process holding the lock of `data_dir` now, if any. Read
// from <proc_root>/locks, so asking never takes the lock itself (a probe
// with flock could make a daemon starting at that moment refuse to run).
std::optional<long> InstanceLockHolder(const std::string& data_dir,
                                       const std::string& proc_root = "/proc");

class InstanceLock {
 public:
  [[nodiscard]] static Result<InstanceLock> Acquire(const std::string& data_dir);

  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();

  const std::string& path() const { return path_; }

 private:
  InstanceLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace mamori
