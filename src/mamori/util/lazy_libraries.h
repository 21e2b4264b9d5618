// The shared libraries mamori opens on first use instead of at start (see
// lazy_library.h): each accessor returns the process-wide LazyLibrary whose
// forwarders (lazy_<library>.cc) define that library's functions. Used by
// `mamori --version` to say whether a library is loaded, and by tests.
// Thread-safe (function-local statics).
#pragma once

#include <string>
#include <string_view>

#include "mamori/util/lazy_library.h"

namespace mamori::util {

LazyLibrary& LazyLibPq();         // PostgreSQL client: postgres check, restore tests, guard
LazyLibrary& LazyLibMariaDb();    // MariaDB client: mariadb check, restore tests, guard
LazyLibrary& LazyLibHyperscan();  // log signatures: log check, diagnose, logs scan
LazyLibrary& LazyLibArchive();    // tar backups: backup verify, backup check
LazyLibrary& LazyLibCurl();       // http(s) checks, webhooks, email, heartbeat pings
LazyLibrary& LazyLibCrypto();     // SHA-256: backups, log scanner cache, tokens
LazyLibrary& LazyLibSystemd();    // the journal and the bus: log checks, systemd units

// Why a call that only fails for `otherwise` (a constructor that returns null
// only when out of memory) failed: the library's load error if it could not
// be opened, else `otherwise`.
inline std::string Unavailable(const LazyLibrary& lib, std::string_view otherwise) {
  return *lib.Error() != '\0' ? std::string(lib.Error()) : std::string(otherwise);
}

}  // namespace mamori::util
