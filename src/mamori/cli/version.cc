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

#include "mamori_build_info.h"

namespace mamori::cli {
namespace {

// "libarchive 3.6.2" -> "3.6.2": the libraries name themselves.
std::string_view WithoutName(std::string_view text, std::string_view name) {
  if (text.substr(0, name.size()) == name) text.remove_prefix(name.size());
  return text;
}

}  // namespace

std::string VersionText() {
  std::string v = fmt::format("mamori {}\ncommit {}\n", MAMORI_VERSION, MAMORI_GIT_COMMIT);
  v += fmt::format("libsystemd {}\n", MAMORI_LIBSYSTEMD_VERSION);
  v += fmt::format("SQLite {}\n", sqlite3_libversion());
  v += fmt::format("libcurl {}\n", curl_version_info(CURLVERSION_NOW)->version);
  v += fmt::format("Hyperscan {}\n", hs_version());
  v += fmt::format("libarchive {}\n", WithoutName(archive_version_string(), "libarchive "));
  v += fmt::format("OpenSSL {}\n", WithoutName(OpenSSL_version(OPENSSL_VERSION), "OpenSSL "));
  v += fmt::format("yaml-cpp {}\n", MAMORI_YAML_CPP_VERSION);
  return v;
}

}  // namespace mamori::cli
