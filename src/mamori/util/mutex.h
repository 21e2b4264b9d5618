// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// Clang's thread-safety attributes, so shared state can be declared
// `GUARDED_BY(mu_)` and a function that needs a lock `REQUIRES(mu_)`, and the
// clang build (-Wthread-safety -Werror, scripts/check_threads.sh) proves every
// access holds the lock. libstdc++'s own mutex carries no such attributes,
// which is why this thin wrapper exists. GCC ignores the attributes.
//
// What the analysis cannot see, and how to tell it:
// - A lambda is a function of its own. One that reads guarded state (a
//   CondVar predicate, a helper called with the lock held) says so:
//   `[&]() REQUIRES(mu_) { return !queue_.empty(); }`.
// - A member of a nested struct cannot name the outer object's mutex; keep
//   such fields private and reach them through accessors that are REQUIRES.
// - Code that drops the lock around a callback calls MutexLock::Unlock() and
//   Lock(); the analysis follows both.
//
// Same semantics and cost as the standard types; not copyable or movable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#if defined(__clang__)
#define MAMORI_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MAMORI_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) MAMORI_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY MAMORI_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) MAMORI_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) MAMORI_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) MAMORI_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) MAMORI_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) MAMORI_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) MAMORI_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) MAMORI_THREAD_ANNOTATION(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS MAMORI_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace mamori {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis that the calling thread holds this mutex where it
  // cannot prove it (the same mutex reached through another object); no
  // runtime check. Prefer REQUIRES on the function.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds `mu` for its scope (like std::lock_guard/std::unique_lock). Unlock()
// and Lock() drop and retake it inside the scope (around a callback or a
// slow call); the destructor releases it only if held.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  void Unlock() RELEASE() { lock_.unlock(); }
  void Lock() ACQUIRE() { lock_.lock(); }

 private:
  friend class CondVar;
  std::unique_lock<std::mutex> lock_;
};

// A condition variable waited on with a MutexLock held. The analysis treats
// the lock as held throughout (the wait re-acquires it before returning). A
// predicate that reads guarded state must be annotated REQUIRES (see above).
class CondVar {
 public:
  void notify_one() { cv_.notify_one(); }
  void notify_all() { cv_.notify_all(); }
  void wait(MutexLock& lock) { cv_.wait(lock.lock_); }
  template <class Pred>
  void wait(MutexLock& lock, Pred pred) {
    cv_.wait(lock.lock_, std::move(pred));
  }
  template <class Rep, class Period>
  std::cv_status wait_for(MutexLock& lock, std::chrono::duration<Rep, Period> d) {
    return cv_.wait_for(lock.lock_, d);
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(MutexLock& lock, std::chrono::duration<Rep, Period> d, Pred pred) {
    return cv_.wait_for(lock.lock_, d, std::move(pred));
  }
  template <class Clock, class Dur>
  std::cv_status wait_until(MutexLock& lock, std::chrono::time_point<Clock, Dur> t) {
    return cv_.wait_until(lock.lock_, t);
  }
  template <class Clock, class Dur, class Pred>
  bool wait_until(MutexLock& lock, std::chrono::time_point<Clock, Dur> t, Pred pred) {
    return cv_.wait_until(lock.lock_, t, std::move(pred));
  }

 private:
  std::condition_variable cv_;
};

}  // namespace mamori
