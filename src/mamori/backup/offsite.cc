#include "mamori/backup/offsite.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>

#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"

namespace mamori::backup {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxFilesInDir = 100'000;
constexpr size_t kMaxListed = 100'000;

struct MdDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string Hex(const unsigned char* d, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[d[i] >> 4]);
    out.push_back(kDigits[d[i] & 15]);
  }
  return out;
}

Result<std::string> HashFile(const fs::path& p, MonoTime deadline, const Clock& clock) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return Error(fmt::format("cannot open {}: {}", p.string(), std::strerror(errno)));
  std::unique_ptr<EVP_MD_CTX, MdDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Error("OpenSSL: cannot start SHA-256");
  std::vector<char> buf(1 << 16);
  size_t chunks = 0;
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = f.gcount();
    if (n > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    if (++chunks % 256 == 0 && clock.Monotonic() > deadline)
      return Error(fmt::format("ran out of time hashing {}", p.string()));
  }
  if (f.bad()) return Error(fmt::format("cannot read {}", p.string()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return Hex(md, len);
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> Tokens(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t b = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > b) out.emplace_back(line.substr(b, i - b));
  }
  return out;
}

std::string BaseName(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (!s.empty() && s[0] == '*') s.erase(0, 1);  // sha256sum binary-mode marker
  auto slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

struct Listed {
  std::string name;
  std::optional<std::string> sha256;
  std::vector<uint64_t> numbers;  // candidates for the size
};

std::string Short(const std::string& sha) { return sha.substr(0, 12); }

}  // namespace

Result<std::string> Sha256Of(const fs::path& path, MonoTime deadline, const Clock& clock) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return HashFile(path, deadline, clock);
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
    if (files.size() > kMaxFilesInDir)
      return Error(fmt::format("{} holds more than {} files", path.string(), kMaxFilesInDir));
  }
  if (ec) return Error(fmt::format("cannot list {}: {}", path.string(), ec.message()));
  std::sort(files.begin(), files.end());
  std::string manifest;
  for (const auto& f : files) {
    auto h = HashFile(f, deadline, clock);
    if (!h.ok()) return h;
    manifest += *h + "  " + fs::relative(f, path).string() + "\n";
  }
  std::unique_ptr<EVP_MD_CTX, MdDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Error("OpenSSL: cannot start SHA-256");
  EVP_DigestUpdate(ctx.get(), manifest.data(), manifest.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return Hex(md, len);
}

OffsiteResult CompareOffsite(const OffsiteSpec& spec, const fs::path& artifact,
                             const std::optional<std::string>& known_sha256, MonoTime deadline,
                             const Clock& clock) {
  OffsiteResult out;
  out.local_sha256 = known_sha256;
  const std::string name = artifact.filename().string();
  std::error_code ec;
  const bool is_dir = fs::is_directory(artifact, ec);
  const uint64_t local_size = is_dir ? 0 : fs::file_size(artifact, ec);
  auto local_hash = [&]() -> Result<std::string> {
    if (out.local_sha256) return *out.local_sha256;
    auto h = Sha256Of(artifact, deadline, clock);
    if (h.ok()) out.local_sha256 = *h;
    return h;
  };

  if (!spec.path.empty()) {
    const fs::path dir(spec.path);
    if (!fs::is_directory(dir, ec)) {
      out.summary = fmt::format("offsite {} is not a readable directory{}", spec.path,
                                ec ? ": " + ec.message() : "");
      return out;
    }
    const fs::path copy = dir / name;
    if (!fs::exists(copy, ec)) {
      // Name what is there instead, newest first: the last copy that made it.
      std::string newest;
      fs::file_time_type newest_t{};
      size_t count = 0;
      for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
        if (++count > kMaxListed) break;
        auto t = it->last_write_time(ec);
        if (!ec && (newest.empty() || t > newest_t)) {
          newest = it->path().filename().string();
          newest_t = t;
        }
      }
      out.status = CheckStatus::kCritical;
      out.summary = newest.empty() ? fmt::format("offsite {} is empty (no {})", spec.path, name)
                                   : fmt::format("offsite {} has no {} (its newest: {})", spec.path,
                                                 name, newest);
      return out;
    }
    if (!is_dir) {
      const uint64_t remote_size = fs::file_size(copy, ec);
      if (ec) {
        out.summary = fmt::format("cannot stat offsite {}: {}", copy.string(), ec.message());
        return out;
      }
      if (remote_size != local_size) {
        out.status = CheckStatus::kCritical;
        out.summary = fmt::format("offsite copy of {} differs: {} there, {} here", name,
                                  FormatBytes(remote_size), FormatBytes(local_size));
        return out;
      }
    }
    auto mine = local_hash();
    if (!mine.ok()) {
      out.summary = "offsite comparison: " + mine.error().message();
      return out;
    }
    auto theirs = Sha256Of(copy, deadline, clock);
    if (!theirs.ok()) {
      out.summary = "offsite comparison: " + theirs.error().message();
      return out;
    }
    if (*theirs != *mine) {
      out.status = CheckStatus::kCritical;
      out.summary = fmt::format("offsite copy of {} differs: sha256 {} there, {} here", name,
                                Short(*theirs), Short(*mine));
      return out;
    }
    out.status = CheckStatus::kOk;
    out.summary = fmt::format("offsite copy matches (sha256 {})", Short(*mine));
    return out;
  }

  ProcessOptions o;
  o.argv = spec.command;
  o.max_output = spec.max_output;
  o.timeout = std::max<Duration>(deadline - clock.Monotonic(), std::chrono::seconds(1));
  auto r = RunProcess(o);
  if (!r.ok()) {
    out.summary = "offsite listing: " + r.error().message();
    return out;
  }
  if (r->timed_out || r->exit_code != 0) {
    std::string err = r->err.empty() ? r->out : r->err;
    if (err.size() > 300) err = err.substr(0, 300) + "...";
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    out.summary = r->timed_out
                      ? "offsite listing timed out"
                      : fmt::format("offsite listing failed (exit {}): {}",
                                    r->exited() ? r->exit_code : 128 + r->term_signal, err);
    return out;
  }
  std::vector<Listed> listed;
  size_t start = 0;
  const std::string& text = r->out;
  while (start < text.size() && listed.size() < kMaxListed) {
    size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start,
                          (nl == std::string::npos ? text.size() : nl) - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    auto toks = Tokens(line);
    if (toks.empty()) continue;
    Listed l;
    if (IsHex64(toks[0]) && toks.size() >= 2) {
      l.sha256 = Lower(toks[0]);
      l.name = BaseName(toks.back());
    } else {
      l.name = BaseName(toks.back());
      for (size_t i = 0; i + 1 < toks.size(); ++i) {
        uint64_t n = 0;
        auto [p, e] = std::from_chars(toks[i].data(), toks[i].data() + toks[i].size(), n);
        if (e == std::errc() && p == toks[i].data() + toks[i].size()) l.numbers.push_back(n);
      }
    }
    listed.push_back(std::move(l));
  }
  const std::string where =
      spec.command.empty() ? "?" : fs::path(spec.command[0]).filename().string();
  if (listed.empty()) {
    out.status = CheckStatus::kCritical;
    out.summary = fmt::format("offsite location is empty ({} listed nothing)", where);
    return out;
  }
  auto it =
      std::find_if(listed.begin(), listed.end(), [&](const Listed& l) { return l.name == name; });
  if (it == listed.end()) {
    out.status = CheckStatus::kCritical;
    out.summary = fmt::format("offsite has no {} ({} lists {} other item{})", name, where,
                              listed.size(), listed.size() == 1 ? "" : "s");
    return out;
  }
  if (it->sha256) {
    auto mine = local_hash();
    if (!mine.ok()) {
      out.summary = "offsite comparison: " + mine.error().message();
      return out;
    }
    if (*it->sha256 != *mine) {
      out.status = CheckStatus::kCritical;
      out.summary = fmt::format("offsite copy of {} differs: sha256 {} there, {} here", name,
                                Short(*it->sha256), Short(*mine));
      return out;
    }
    out.status = CheckStatus::kOk;
    out.summary = fmt::format("offsite copy matches (sha256 {})", Short(*mine));
    return out;
  }
  if (!is_dir && !it->numbers.empty()) {
    if (std::find(it->numbers.begin(), it->numbers.end(), local_size) == it->numbers.end()) {
      out.status = CheckStatus::kCritical;
      out.summary =
          fmt::format("offsite copy of {} differs: listed size is not {} bytes", name, local_size);
      return out;
    }
    out.status = CheckStatus::kOk;
    out.summary = fmt::format("offsite holds {} with the same size (no checksum listed)", name);
    return out;
  }
  out.status = CheckStatus::kOk;
  out.summary = fmt::format("offsite holds {} (listing gives neither checksum nor size)", name);
  return out;
}

}  // namespace mamori::backup
