// Forwarders for the libcurl functions mamori calls (see util/lazy_library.h).
// Each has the signature of curl.h; a missing library gives curl's own
// failure value (CURLE_FAILED_INIT, CURLM_INTERNAL_ERROR, a null handle) and
// the strerror functions then name the library.
//
// Two differences from the other lazy_lib*.cc files:
// - curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic,
//   and `...` cannot be passed on: each reads its one argument with the type
//   curl.h gives the option's number range (CURLOPTTYPE_*, CURLINFO_*) and
//   calls the real function with that argument. The definitions put the
//   names in parentheses so curl.h's type-checking macros do not expand them.
// - curl_global_init runs exactly once, before the first easy or multi handle
//   is made, whoever asks first: an explicit curl_global_init, a
//   curl_easy_init or a curl_multi_init. Later curl_global_init calls return
//   the first one's result. A library that cannot be opened latches nothing,
//   so the init runs when a later try opens it.
#include <curl/curl.h>

#include <atomic>
#include <cstdarg>

#include "mamori/util/lazy_libraries.h"
#include "mamori/util/mutex.h"

using mamori::util::LazyLibCurl;

namespace {

// curl's error strings for a library that is not there.
const char* Missing() { return LazyLibCurl().Error(); }

// The real function `name`, found once; nullptr while the library is missing.
template <typename Fn>
Fn Real(std::atomic<Fn>& found, const char* name) {
  Fn fn = found.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = reinterpret_cast<Fn>(LazyLibCurl().Symbol(name));
    if (fn != nullptr) found.store(fn, std::memory_order_release);
  }
  return fn;
}

// CURL_GLOBAL_DEFAULT unless an explicit curl_global_init came first.
CURLcode GlobalInitOnce(long flags) {
  static std::atomic<bool> done{false};
  static CURLcode result = CURLE_OK;  // written once, before `done`
  if (done.load(std::memory_order_acquire)) return result;
  static mamori::Mutex mu;
  mamori::MutexLock lock(mu);
  if (done.load(std::memory_order_relaxed)) return result;
  using Fn = CURLcode (*)(long);
  static std::atomic<Fn> found{nullptr};
  Fn fn = Real(found, "curl_global_init");
  if (fn == nullptr) return CURLE_FAILED_INIT;
  result = fn(flags);
  done.store(true, std::memory_order_release);
  return result;
}

// The one argument after an option number in the CURLOPT_*/CURLMOPT_*
// scheme (curl.h: CURLOPTTYPE_LONG 0, OBJECTPOINT 10000, FUNCTIONPOINT 20000,
// OFF_T 30000, BLOB 40000), passed on with that type to the real `name`;
// `fail` while the library is missing.
template <typename Ret, typename Handle, typename Option>
Ret SetOption(std::atomic<Ret (*)(Handle, Option, ...)>& found, const char* name, Ret fail,
              Handle h, Option option, va_list ap) {
  auto fn = Real(found, name);
  if (fn == nullptr) return fail;
  switch (static_cast<int>(option) / 10000 * 10000) {
    case CURLOPTTYPE_LONG:
      return fn(h, option, va_arg(ap, long));
    case CURLOPTTYPE_FUNCTIONPOINT:
      return fn(h, option, va_arg(ap, void (*)()));
    case CURLOPTTYPE_OFF_T:
      return fn(h, option, va_arg(ap, curl_off_t));
    default:  // OBJECTPOINT (strings, lists, callback data), BLOB: pointers
      return fn(h, option, va_arg(ap, void*));
  }
}

}  // namespace

extern "C" CURLcode curl_global_init(long flags) { return GlobalInitOnce(flags); }

extern "C" CURL* curl_easy_init() {
  if (GlobalInitOnce(CURL_GLOBAL_DEFAULT) != CURLE_OK) return nullptr;
  static std::atomic<CURL* (*)()> found{nullptr};
  auto fn = Real(found, "curl_easy_init");
  return fn != nullptr ? fn() : nullptr;
}

extern "C" CURLM* curl_multi_init() {
  if (GlobalInitOnce(CURL_GLOBAL_DEFAULT) != CURLE_OK) return nullptr;
  static std::atomic<CURLM* (*)()> found{nullptr};
  auto fn = Real(found, "curl_multi_init");
  return fn != nullptr ? fn() : nullptr;
}

// curl.h fixes these signatures, an enum before the `...`, and libcurl's own
// definitions call va_start on it the same way. clang warns that an enum may
// be promoted; these enums are int-sized, which passes unchanged.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif
extern "C" CURLcode(curl_easy_setopt)(CURL* h, CURLoption option, ...) {
  static std::atomic<CURLcode (*)(CURL*, CURLoption, ...)> found{nullptr};
  va_list ap;
  va_start(ap, option);
  const CURLcode rc = SetOption(found, "curl_easy_setopt", CURLE_FAILED_INIT, h, option, ap);
  va_end(ap);
  return rc;
}

extern "C" CURLMcode(curl_multi_setopt)(CURLM* h, CURLMoption option, ...) {
  static std::atomic<CURLMcode (*)(CURLM*, CURLMoption, ...)> found{nullptr};
  va_list ap;
  va_start(ap, option);
  const CURLMcode rc = SetOption(found, "curl_multi_setopt", CURLM_INTERNAL_ERROR, h, option, ap);
  va_end(ap);
  return rc;
}

// Every CURLINFO_* takes a pointer to where the answer goes.
extern "C" CURLcode(curl_easy_getinfo)(CURL* h, CURLINFO info, ...) {
  static std::atomic<CURLcode (*)(CURL*, CURLINFO, ...)> found{nullptr};
  auto fn = Real(found, "curl_easy_getinfo");
  if (fn == nullptr) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*);
  va_end(ap);
  return fn(h, info, out);
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

#define MAMORI_LAZY_CURL(ret, name, params, args, fail) \
  MAMORI_LAZY_FUNCTION(LazyLibCurl(), ret, name, params, args, fail)

MAMORI_LAZY_CURL(void, curl_easy_cleanup, (CURL * a0), (a0), )
MAMORI_LAZY_CURL(CURLcode, curl_easy_perform, (CURL * a0), (a0), CURLE_FAILED_INIT)
MAMORI_LAZY_CURL(void, curl_easy_reset, (CURL * a0), (a0), )
MAMORI_LAZY_CURL(const char*, curl_easy_strerror, (CURLcode a0), (a0), Missing())
MAMORI_LAZY_CURL(CURLMcode, curl_multi_add_handle, (CURLM * a0, CURL* a1), (a0, a1),
                 CURLM_INTERNAL_ERROR)
MAMORI_LAZY_CURL(CURLMcode, curl_multi_cleanup, (CURLM * a0), (a0), CURLM_INTERNAL_ERROR)
MAMORI_LAZY_CURL(CURLMsg*, curl_multi_info_read, (CURLM * a0, int* a1), (a0, a1), nullptr)
MAMORI_LAZY_CURL(CURLMcode, curl_multi_perform, (CURLM * a0, int* a1), (a0, a1),
                 CURLM_INTERNAL_ERROR)
MAMORI_LAZY_CURL(CURLMcode, curl_multi_poll,
                 (CURLM * a0, struct curl_waitfd a1[], unsigned int a2, int a3, int* a4),
                 (a0, a1, a2, a3, a4), CURLM_INTERNAL_ERROR)
MAMORI_LAZY_CURL(CURLMcode, curl_multi_remove_handle, (CURLM * a0, CURL* a1), (a0, a1),
                 CURLM_INTERNAL_ERROR)
MAMORI_LAZY_CURL(CURLMcode, curl_multi_socket_action,
                 (CURLM * a0, curl_socket_t a1, int a2, int* a3), (a0, a1, a2, a3),
                 CURLM_INTERNAL_ERROR)
MAMORI_LAZY_CURL(const char*, curl_multi_strerror, (CURLMcode a0), (a0), Missing())
MAMORI_LAZY_CURL(CURLMcode, curl_multi_wakeup, (CURLM * a0), (a0), CURLM_INTERNAL_ERROR)
MAMORI_LAZY_CURL(struct curl_slist*, curl_slist_append, (struct curl_slist * a0, const char* a1),
                 (a0, a1), nullptr)
MAMORI_LAZY_CURL(void, curl_slist_free_all, (struct curl_slist * a0), (a0), )
MAMORI_LAZY_CURL(curl_version_info_data*, curl_version_info, (CURLversion a0), (a0), nullptr)
