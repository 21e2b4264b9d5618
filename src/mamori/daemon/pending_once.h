// PendingOnce: keeps follow-up work keyed by name from piling up. Many threads
// may ask for the same work (judge heartbeat check X again after a ping) while
// one request per key is outstanding: the first Claim() of a key returns true
// and its caller posts the work; further Claims return false until the work
// starts and calls Release(). Work that starts after a ping therefore sees that
// ping, so nothing is judged late, but thousands of pings a second to one
// check cost one judgment per turn of the event loop instead of one each.
//
// Bounded by the number of distinct keys (the configured heartbeat checks).
// Thread-safe (one mutex).
#pragma once

#include <string>
#include <unordered_set>

#include "mamori/util/mutex.h"

namespace mamori {

class PendingOnce {
 public:
  // True when `key` was not pending: the caller posts the work.
  bool Claim(const std::string& key) {
    MutexLock lock(mu_);
    return pending_.insert(key).second;
  }
  // The work for `key` starts: a later Claim posts it again.
  void Release(const std::string& key) {
    MutexLock lock(mu_);
    pending_.erase(key);
  }

 private:
  Mutex mu_;
  std::unordered_set<std::string> pending_ GUARDED_BY(mu_);
};

}  // namespace mamori
