#include "mamori/logs/scanner_cache.h"

#include <hs/hs.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "mamori/util/atomic_file.h"

namespace mamori::logs {
namespace {

constexpr std::string_view kMagic = "MAMORIHS1\n";
constexpr size_t kHexLen = 64;
// Far above any database a knowledge base compiles to (about 1 MB for 400
// signatures); a bigger file is not ours.
constexpr uintmax_t kMaxFileBytes = 256u << 20;

// Length-prefixed, so ("ab","c") and ("a","bc") differ.
void Put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

std::string Header(const std::string& key, const std::string& payload_sha) {
  return std::string(kMagic) + key + "\n" + payload_sha + "\n";
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

std::string DatabaseKey(const PatternSet& p) {
  std::string in;
  Put(in, hs_version());
  hs_platform_info_t platform{};
  if (hs_populate_platform(&platform) == HS_SUCCESS)
    Put(in, fmt::format("tune={} features={}", platform.tune, platform.cpu_features));
  Put(in, fmt::format("mode={} n={}", HS_MODE_BLOCK, p.expressions.size()));
  for (size_t i = 0; i < p.expressions.size(); ++i) {
    Put(in, p.expressions[i]);
    Put(in, fmt::format("{}/{}", p.flags[i], p.ids[i]));
  }
  return Sha256Hex(in);
}

std::string DefaultScannerCacheDir() {
  if (const char* m = std::getenv("MAMORI_CACHE_DIR")) return m;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/')
    return std::string(x) + "/mamori";
  if (const char* h = std::getenv("HOME"); h && *h == '/') return std::string(h) + "/.cache/mamori";
  return "";
}

std::string CacheFilePath(const std::string& dir, const std::string& key) {
  return dir + "/signatures-" + key + ".hsdb";
}

hs_database* LoadCachedDatabase(const std::string& dir, const std::string& key) {
  if (dir.empty()) return nullptr;
  const std::string path = CacheFilePath(dir, key);
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxFileBytes) return nullptr;
  std::ifstream in(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t head = kMagic.size() + 2 * (kHexLen + 1);
  if (file.size() <= head || file.compare(0, kMagic.size(), kMagic) != 0) return nullptr;
  std::string_view payload(file.data() + head, file.size() - head);
  const std::string want_sha = file.substr(kMagic.size() + kHexLen + 1, kHexLen);
  if (file.compare(kMagic.size(), kHexLen, key) != 0 || Sha256Hex(payload) != want_sha)
    return nullptr;
  hs_database* db = nullptr;
  if (hs_deserialize_database(payload.data(), payload.size(), &db) != HS_SUCCESS) return nullptr;
  return db;
}

bool StoreCachedDatabase(const std::string& dir, const std::string& key, const hs_database* db) {
  if (dir.empty()) return false;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return false;
  char* bytes = nullptr;
  size_t length = 0;
  if (hs_serialize_database(db, &bytes, &length) != HS_SUCCESS) return false;
  std::string payload(bytes, length);
  std::free(bytes);  // hs_serialize_database allocates with the misc allocator: malloc
  if (!WriteFileAtomically(CacheFilePath(dir, key), Header(key, Sha256Hex(payload)) + payload).ok())
    return false;
  // Bounded: older rule sets' databases go, newest kept.
  std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("signatures-", 0) == 0 && e.path().extension() == ".hsdb")
      files.emplace_back(e.last_write_time(ec), e.path());
  }
  if (files.size() > kMaxCacheFiles) {
    std::sort(files.begin(), files.end(), std::greater<>());
    for (size_t i = kMaxCacheFiles; i < files.size(); ++i)
      std::filesystem::remove(files[i].second, ec);
  }
  return true;
}

}  // namespace mamori::logs
