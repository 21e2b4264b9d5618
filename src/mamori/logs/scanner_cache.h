// ScannerCache: the compiled Hyperscan database of the signatures, kept on
// disk so `mamori logs scan`, `diagnose` and the `log` check start in
// milliseconds instead of recompiling hundreds of patterns every time.
//
// A cache file holds one serialized database (hs_serialize_database) under a
// name derived from a SHA-256 of everything that shapes the database: every
// pattern, its flags and id, hs_version() and the platform Hyperscan tunes for.
// A changed rule set or a new Hyperscan is therefore a different file (a miss),
// never a stale hit. The file carries its own SHA-256 of the payload, so a
// torn or corrupt file is recognised, ignored and rewritten.
//
// Plain functions, safe from any thread and process: files are replaced with
// WriteFileAtomically (a temporary per writer, then rename), so concurrent
// writers never leave a mix. Failure: the cache never fails a scan; a missing,
// unwritable or corrupt cache only means compiling (Load returns nullptr,
// Store returns false).
#pragma once

#include <string>
#include <string_view>
#include <vector>

struct hs_database;

namespace mamori::logs {

// The patterns as handed to hs_compile_multi.
struct PatternSet {
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
};

// Hex SHA-256 of `data` (OpenSSL).
std::string Sha256Hex(std::string_view data);

// Hex SHA-256 of the patterns, flags, ids, mode, hs_version() and platform.
std::string DatabaseKey(const PatternSet& patterns);

// The cache directory for command-line use: $MAMORI_CACHE_DIR when set (set
// but empty: no cache), else $XDG_CACHE_HOME/mamori, else $HOME/.cache/mamori;
// empty when none can be named.
std::string DefaultScannerCacheDir();

// <dir>/signatures-<key>.hsdb
std::string CacheFilePath(const std::string& dir, const std::string& key);

// The cached database for `key`, or nullptr when there is none usable (the
// caller owns the result; hs_free_database).
hs_database* LoadCachedDatabase(const std::string& dir, const std::string& key);

// Writes `db` for `key` (creating `dir`), then keeps at most kMaxCacheFiles
// databases in `dir`, dropping the oldest. False when it could not be written.
bool StoreCachedDatabase(const std::string& dir, const std::string& key, const hs_database* db);

inline constexpr size_t kMaxCacheFiles = 8;

}  // namespace mamori::logs
