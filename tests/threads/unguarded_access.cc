// The thread-safety analysis' own test: scripts/check_threads.sh compiles
// this file with clang -Xclang -verify before anything else and fails unless
// clang reports exactly the diagnostics marked `expected-warning` below (and
// nothing else). A setup that silently checks nothing (the attributes
// compiled away, the warning not enabled, a clang without the analysis)
// therefore fails the check instead of passing it. Not part of any build.
#include <deque>
#include <optional>

#include "mamori/util/mutex.h"

namespace mamori {

class Queue {
 public:
  void Push(int v) {
    MutexLock lock(mu_);
    items_.push_back(v);
    ++pushed_;
    cv_.notify_one();
  }

  void PushUnlocked(int v) {
    // expected-warning@+1 {{reading variable 'items_' requires holding mutex 'mu_'}}
    items_.push_back(v);
    // expected-warning@+1 {{writing variable 'pushed_' requires holding mutex 'mu_'}}
    pushed_ = v;
  }

  bool EmptyUnlocked() const {
    // expected-warning@+1 {{reading variable 'items_' requires holding mutex 'mu_'}}
    return items_.empty();
  }

  void CallsLockedHelperWithoutTheLock() {
    // expected-warning@+1 {{calling function 'PopLocked' requires holding mutex 'mu_'}}
    PopLocked();
  }

  // The lock dropped around a callback, then the state touched anyway.
  void TouchesAfterUnlock(void (*callback)()) {
    MutexLock lock(mu_);
    lock.Unlock();
    callback();
    // expected-warning@+1 {{writing variable 'pushed_' requires holding mutex 'mu_'}}
    pushed_ = 0;
    lock.Lock();
    pushed_ = 0;
  }

  // A predicate is a function of its own: without REQUIRES it reads unlocked.
  int PopWaiting() {
    MutexLock lock(mu_);
    // expected-warning@+1 {{reading variable 'items_' requires holding mutex 'mu_'}}
    cv_.wait(lock, [&] { return !items_.empty(); });
    cv_.wait(lock, [&]() REQUIRES(mu_) { return !items_.empty(); });
    return PopLocked();
  }

 private:
  int PopLocked() REQUIRES(mu_) {
    int v = items_.front();
    items_.pop_front();
    return v;
  }

  mutable Mutex mu_;
  CondVar cv_;
  std::deque<int> items_ GUARDED_BY(mu_);
  int pushed_ GUARDED_BY(mu_) = 0;
};

void Use() {
  Queue q;
  q.Push(1);
  q.PushUnlocked(2);
  (void)q.EmptyUnlocked();
  q.CallsLockedHelperWithoutTheLock();
  q.TouchesAfterUnlock([] {});
  (void)q.PopWaiting();
}

}  // namespace mamori
