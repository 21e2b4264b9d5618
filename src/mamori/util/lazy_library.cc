#include "mamori/util/lazy_library.h"

#include <dlfcn.h>

#include <cstdio>

namespace mamori::util {

void LazyLibrary::Open() {
  // RTLD_LOCAL: the library's symbols do not join the global scope, so a
  // later library cannot bind to them by accident.
  handle_ = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
  if (handle_ != nullptr) return;
  const char* why = dlerror();
  error_ = std::string(soname_) + " cannot be loaded: " + (why != nullptr ? why : "unknown error");
  std::fprintf(stderr, "mamori: %s\n", error_.c_str());
}

void* LazyLibrary::Symbol(const char* name) {
  std::call_once(once_, [this] { Open(); });
  if (handle_ == nullptr) return nullptr;
  void* sym = dlsym(handle_, name);
  if (sym == nullptr) {
    std::fprintf(stderr, "mamori: %s has no %s\n", soname_, name);
  }
  return sym;
}

bool LazyLibrary::Loaded() const {
  // Asks the loader rather than handle_: Loaded() may race a first Symbol().
  void* h = dlopen(soname_, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (h == nullptr) return false;
  dlclose(h);
  return true;
}

const char* LazyLibrary::Error() const { return error_.c_str(); }

}  // namespace mamori::util
