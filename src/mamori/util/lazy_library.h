// LazyLibrary: a shared library opened with dlopen() on the first call of one
// of its functions, not by the dynamic loader at start. The heavy libraries
// only some check types need (libpq, libmariadb, Hyperscan, libarchive,
// libcurl, libcrypto, libsystemd) are reached this way: the binary does not
// list them as NEEDED, and a configuration that uses none of them never maps
// their pages, runs their constructors or pays for their symbol relocations
// (docs/ARCHITECTURE.md, "Footprint").
//
// Callers do not use this class directly: lazy_<library>.cc defines each C
// function the code calls, with the signature from the library's own header,
// as a forwarder to the symbol found here (MAMORI_LAZY_FUNCTION). A library
// that cannot be loaded makes every forwarder return that function's failure
// value (a null handle, an error status) and its error-message functions say
// which library is missing; the first failure is also written to stderr once.
//
// Instances are static objects of the lazy_*.cc files, never destroyed before
// exit; Symbol() is thread-safe. A library, once opened, stays open. A failed
// open is tried again on a later call, at most once per `retry_after`: the
// first use may come while descriptors or memory are short, or before the
// operator has installed the package, and that must not disable a check
// until the daemon restarts. Forwarders keep only the symbols they found.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "mamori/util/mutex.h"

namespace mamori::util {

class LazyLibrary {
 public:
  // soname: what dlopen() is given ("libpq.so.5").
  explicit LazyLibrary(const char* soname,
                       std::chrono::steady_clock::duration retry_after = std::chrono::seconds(30))
      : soname_(soname), retry_after_(retry_after) {}

  // The address of the function `name`, opening the library on first use;
  // nullptr when the library or the symbol is missing.
  void* Symbol(const char* name);
  // Whether the library has been opened (by a Symbol() call) in this process.
  bool Loaded() const;
  // "libpq.so.5 cannot be loaded: <dlerror>" once a Symbol() call failed to
  // open it (the first failure's words), empty before; valid for the
  // process's lifetime.
  const char* Error() const;

 private:
  // The handle, opening the library now if it is not open and the last try
  // is old enough; nullptr otherwise.
  void* Open();

  const char* soname_;
  const std::chrono::steady_clock::duration retry_after_;
  std::atomic<void*> handle_{nullptr};
  Mutex mu_;  // serialises opening
  bool tried_ GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point last_try_ GUARDED_BY(mu_);
  std::string error_;  // written once, before error_set_
  std::atomic<bool> error_set_{false};
};

}  // namespace mamori::util

// Defines `extern "C" ret name params` forwarding to the library's own
// `name`. The header declared the function already, so a signature that does
// not match the library's is a compile error, not a crash. `fail` is returned
// when the library or symbol is missing (empty for void functions).
#define MAMORI_LAZY_FUNCTION(library, ret, name, params, args, fail) \
  extern "C" ret name params {                                       \
    using Fn = ret(*) params;                                        \
    static std::atomic<Fn> found{nullptr};                           \
    Fn fn = found.load(std::memory_order_acquire);                   \
    if (fn == nullptr) {                                             \
      fn = reinterpret_cast<Fn>((library).Symbol(#name));            \
      if (fn == nullptr) return fail;                                \
      found.store(fn, std::memory_order_release);                    \
    }                                                                \
    return fn args;                                                  \
  }
