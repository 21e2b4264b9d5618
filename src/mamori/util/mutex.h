// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// Clang's thread-safety attributes, so shared state can be declared
// `GUARDED_BY(mu_)` and a function that needs a lock `REQUIRES(mu_)`, and the
// clang build (-Wthread-safety -Werror, scripts/check_threads.sh) proves every
// access holds the lock. libstdc++'s own mutex carries no such attributes,
// which is why this thin wrapper exists. GCC ignores the attributes.
//
// Same semantics and cost as the standard types; not copyable or movable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

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
#define NO_THREAD_SAFETY_ANALYSIS MAMORI_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace mamori {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope (like std::lock_guard/std::unique_lock).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  // For CondVar only.
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

// A condition variable waited on with a MutexLock held. The analysis treats
// the lock as held throughout (the wait re-acquires it before returning).
class CondVar {
 public:
  void notify_one() { cv_.notify_one(); }
  void notify_all() { cv_.notify_all(); }
  void wait(MutexLock& lock) { cv_.wait(lock.native()); }
  template <class Pred>
  void wait(MutexLock& lock, Pred pred) {
    cv_.wait(lock.native(), std::move(pred));
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(MutexLock& lock, std::chrono::duration<Rep, Period> d, Pred pred) {
    return cv_.wait_for(lock.native(), d, std::move(pred));
  }
  template <class Clock, class Dur, class Pred>
  bool wait_until(MutexLock& lock, std::chrono::time_point<Clock, Dur> t, Pred pred) {
    return cv_.wait_until(lock.native(), t, std::move(pred));
  }
  template <class Rep, class Period>
  std::cv_status wait_for(MutexLock& lock, std::chrono::duration<Rep, Period> d) {
    return cv_.wait_for(lock.native(), d);
  }

 private:
  std::condition_variable cv_;
};

}  // namespace mamori
