#include "mamori/util/lazy_library.h"

#include <dlfcn.h>

#include <cstdio>

namespace mamori::util {

void* LazyLibrary::Open() {
  MutexLock lock(mu_);
  if (void* h = handle_.load(std::memory_order_acquire)) return h;  // another thread won
  const auto now = std::chrono::steady_clock::now();
  if (tried_ && now - last_try_ < retry_after_) return nullptr;
  tried_ = true;
  last_try_ = now;
  // RTLD_LOCAL: the library's symbols do not join the global scope, so a
  // later library cannot bind to them by accident.
  void* h = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
  if (h != nullptr) {
    handle_.store(h, std::memory_order_release);
    return h;
  }
  if (!error_set_.load(std::memory_order_relaxed)) {
    const char* why = dlerror();
    error_ =
        std::string(soname_) + " cannot be loaded: " + (why != nullptr ? why : "unknown error");
    error_set_.store(true, std::memory_order_release);
    std::fprintf(stderr, "mamori: %s\n", error_.c_str());
  }
  return nullptr;
}

void* LazyLibrary::Symbol(const char* name) {
  void* h = handle_.load(std::memory_order_acquire);
  if (h == nullptr) h = Open();
  if (h == nullptr) return nullptr;
  void* sym = dlsym(h, name);
  if (sym == nullptr) std::fprintf(stderr, "mamori: %s has no %s\n", soname_, name);
  return sym;
}

bool LazyLibrary::Loaded() const {
  // Asks the loader rather than handle_: Loaded() may race a first Symbol().
  void* h = dlopen(soname_, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (h == nullptr) return false;
  dlclose(h);
  return true;
}

const char* LazyLibrary::Error() const {
  return error_set_.load(std::memory_order_acquire) ? error_.c_str() : "";
}

}  // namespace mamori::util
