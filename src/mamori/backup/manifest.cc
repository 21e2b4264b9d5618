#include "mamori/backup/manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace mamori::backup {
namespace fs = std::filesystem;
namespace {

constexpr std::uintmax_t kMaxManifestBytes = 16 << 20;

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool SafeName(const std::string& n) {
  return !n.empty() && n.size() <= 4096 && n.find('/') == std::string::npos && n != "." &&
         n != ".." && n.find('\0') == std::string::npos;
}

std::optional<std::string> ReadSmallFile(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  const auto size = fs::file_size(p, ec);
  if (ec || size > kMaxManifestBytes) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<ManifestEntry> ParseManifest(std::string_view text, std::uint64_t max_entries,
                                         std::uint64_t* bad_lines) {
  std::vector<ManifestEntry> out;
  std::uint64_t bad = 0;
  while (!text.empty() && out.size() < max_entries) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (line.size() < 67 || !std::all_of(line.begin(), line.begin() + 64, IsHex) ||
        line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) {
      ++bad;
      continue;
    }
    ManifestEntry e;
    e.sha256.assign(line.substr(0, 64));
    std::transform(e.sha256.begin(), e.sha256.end(), e.sha256.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    e.name.assign(line.substr(66));
    if (e.name.rfind("./", 0) == 0) e.name.erase(0, 2);
    out.push_back(std::move(e));
  }
  if (bad_lines) *bad_lines = bad;
  return out;
}

std::optional<std::string> FindExpectedSha256(const std::string& artifact, std::string* manifest) {
  const fs::path a(artifact);
  const std::string base = a.filename().string();
  const fs::path dir = a.has_parent_path() ? a.parent_path() : fs::path(".");
  for (const fs::path& m :
       {dir / "SHA256SUMS", dir / "sha256sums.txt", fs::path(artifact + ".sha256")}) {
    auto text = ReadSmallFile(m);
    if (!text) continue;
    for (const auto& e : ParseManifest(*text, 1'000'000, nullptr)) {
      // A single-file .sha256 may name the file with its directory.
      const bool same = e.name == base || (m.extension() == ".sha256" &&
                                           fs::path(e.name).filename().string() == base);
      if (same) {
        *manifest = m.string();
        return e.sha256;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> Sha256File(const std::string& path, std::string* error) {
  FileSource src(path, true);
  while (!src.Next().empty()) {
  }
  if (src.problem()) {
    *error = src.problem()->message;
    return std::nullopt;
  }
  return src.Sha256Hex();
}

std::string VerifyManifestFile(const std::string& manifest_path, std::string_view text,
                               std::uint64_t max_entries, Findings* findings) {
  std::uint64_t bad = 0;
  const auto entries = ParseManifest(text, max_entries, &bad);
  const fs::path dir = fs::path(manifest_path).has_parent_path()
                           ? fs::path(manifest_path).parent_path()
                           : fs::path(".");
  std::uint64_t good = 0, missing = 0;
  for (const auto& e : entries) {
    if (!SafeName(e.name)) {
      findings->Add(CheckStatus::kWarning,
                    fmt::format("SHA256SUMS: '{}' is outside the manifest's directory; not checked",
                                Excerpt(e.name)));
      continue;
    }
    std::error_code ec;
    const fs::path p = dir / e.name;
    if (!fs::exists(p, ec)) {
      ++missing;
      findings->Add(CheckStatus::kCritical,
                    fmt::format("SHA256SUMS: {} is listed but missing", Excerpt(e.name)));
      continue;
    }
    std::string error;
    auto got = Sha256File(p.string(), &error);
    if (!got) {
      findings->Add(CheckStatus::kUnknown, fmt::format("SHA256SUMS: {}", error));
      continue;
    }
    if (*got != e.sha256) {
      findings->Add(CheckStatus::kCritical,
                    fmt::format("SHA256SUMS: checksum mismatch for {} (manifest {}, actual {})",
                                Excerpt(e.name), e.sha256, *got));
      continue;
    }
    ++good;
  }
  if (bad > 0)
    findings->Add(CheckStatus::kWarning,
                  fmt::format("SHA256SUMS: {} lines are not checksum lines", bad));
  findings->details["files"] = entries.size();
  findings->details["verified"] = good;
  findings->details["missing"] = missing;
  return fmt::format("SHA256SUMS manifest, all {} listed files match", good);
}

}  // namespace mamori::backup
