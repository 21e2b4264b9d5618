// The only file that includes mamori_build_info.h: a new commit recompiles
// this file alone, not every object.
#include "mamori/cli/version.h"

#include <archive.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <hs/hs.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <string_view>

#include "mamori/util/lazy_libraries.h"
#include "mamori_build_info.h"
#include "mamori_lazy_sonames.h"

namespace mamori::cli {
namespace {

// "libarchive 3.6.2" -> "3.6.2": the libraries name themselves.
std::string_view WithoutName(std::string_view text, std::string_view name) {
  if (text.substr(0, name.size()) == name) text.remove_prefix(name.size());
  return text;
}

// A library opened on first use (util/lazy_library.h) is not opened for
// --version: the version of the headers it was built with and the SONAME it
// will be opened by; the library's own word once this process loaded it.
template <typename RuntimeVersion>
std::string OnDemand(util::LazyLibrary& lib, RuntimeVersion runtime, std::string_view built,
                     std::string_view soname) {
  if (lib.Loaded()) return std::string(runtime());
  return fmt::format("{} ({}, loaded on demand)", built, soname);
}

}  // namespace

std::string VersionText() {
  std::string v = fmt::format("mamori {}\ncommit {}\n", MAMORI_VERSION, MAMORI_GIT_COMMIT);
  v += fmt::format("libsystemd {}\n",
                   OnDemand(
                       util::LazyLibSystemd(), [] { return MAMORI_LIBSYSTEMD_VERSION; },
                       MAMORI_LIBSYSTEMD_VERSION, MAMORI_SONAME_SYSTEMD));
  v += fmt::format("SQLite {}\n", sqlite3_libversion());
  v += fmt::format("libcurl {}\n", OnDemand(
                                       util::LazyLibCurl(),
                                       [] { return curl_version_info(CURLVERSION_NOW)->version; },
                                       LIBCURL_VERSION, MAMORI_SONAME_CURL));
  const std::string hs_built = fmt::format("{}.{}.{}", HS_MAJOR, HS_MINOR, HS_PATCH);
  v += fmt::format("Hyperscan {}\n", OnDemand(
                                         util::LazyLibHyperscan(), [] { return hs_version(); },
                                         hs_built, MAMORI_SONAME_HS));
  v += fmt::format("libarchive {}\n",
                   OnDemand(
                       util::LazyLibArchive(),
                       [] { return WithoutName(archive_version_string(), "libarchive "); },
                       ARCHIVE_VERSION_ONLY_STRING, MAMORI_SONAME_ARCHIVE));
  v += fmt::format("OpenSSL {}\n",
                   OnDemand(
                       util::LazyLibCrypto(),
                       [] { return WithoutName(OpenSSL_version(OPENSSL_VERSION), "OpenSSL "); },
                       OPENSSL_VERSION_STR, MAMORI_SONAME_CRYPTO));
  v += fmt::format("yaml-cpp {}\n", MAMORI_YAML_CPP_VERSION);
  return v;
}

}  // namespace mamori::cli
