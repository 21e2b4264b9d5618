#include "mamori/backup/stream.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mamori::backup {

void Findings::Add(CheckStatus s, std::string message) {
  status = Worst(status, s);
  problems.push_back({s, std::move(message)});
}

std::string Findings::WorstMessages() const {
  std::string out;
  int n = 0;
  for (const auto& p : problems) {
    if (p.status != status) continue;
    if (++n > 3) break;
    if (!out.empty()) out += "; ";
    out += p.message;
  }
  return out;
}

FileSource::FileSource(const std::string& path, bool sha256) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    problem_ = Problem{CheckStatus::kUnknown,
                       fmt::format("cannot open {}: {}", path, std::strerror(errno))};
    return;
  }
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  buf_.resize(kChunkSize);
  if (sha256) {
    auto* ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1) {
      sha_ = ctx;
    } else {
      EVP_MD_CTX_free(ctx);
    }
  }
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(sha_));
}

Bytes FileSource::Next() {
  if (fd_ < 0 || problem_) return {};
  for (;;) {
    ssize_t n = ::read(fd_, buf_.data(), buf_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem_ = Problem{
          CheckStatus::kUnknown,
          fmt::format("read error in {} at byte {}: {}", path_, bytes_read_, std::strerror(errno))};
      return {};
    }
    if (n == 0) return {};
    bytes_read_ += static_cast<std::uint64_t>(n);
    if (sha_) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(sha_), buf_.data(), static_cast<size_t>(n));
    if (on_read_) on_read_(bytes_read_);
    return Bytes(buf_.data(), static_cast<size_t>(n));
  }
}

std::optional<std::string> FileSource::Sha256Hex() {
  if (!sha_ || problem_) return std::nullopt;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(sha_), md, &len) != 1) return std::nullopt;
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(sha_));
  sha_ = nullptr;
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

Bytes MemorySource::Next() {
  if (data_.empty()) return {};
  const std::size_t n = std::min(piece_ ? piece_ : data_.size(), data_.size());
  Bytes out = data_.first(n);
  data_ = data_.subspan(n);
  return out;
}

Bytes Reader::Available() {
  if (stash_pos_ < stash_.size()) return Bytes(stash_).subspan(stash_pos_);
  if (!stash_.empty()) {
    stash_.clear();
    stash_pos_ = 0;
  }
  if (chunk_.empty()) chunk_ = source_.Next();
  return chunk_;
}

void Reader::Consume(std::size_t n) {
  position_ += n;
  if (stash_pos_ < stash_.size()) {
    stash_pos_ += n;
    return;
  }
  chunk_ = chunk_.subspan(n);
}

Bytes Reader::Peek(std::size_t n) {
  if (stash_pos_ >= stash_.size()) {
    stash_.clear();
    stash_pos_ = 0;
    if (chunk_.empty()) chunk_ = source_.Next();
    if (chunk_.size() >= n) return chunk_.first(n);
    // Stitch: the current chunk's rest moves into the stash, then pieces of
    // the next chunks are appended until n bytes are there.
    stash_.assign(chunk_.begin(), chunk_.end());
    chunk_ = {};
  } else if (stash_pos_ > 0) {
    stash_.erase(stash_.begin(), stash_.begin() + static_cast<std::ptrdiff_t>(stash_pos_));
    stash_pos_ = 0;
  }
  while (stash_.size() < n) {
    if (chunk_.empty()) chunk_ = source_.Next();
    if (chunk_.empty()) break;
    const std::size_t take = std::min(n - stash_.size(), chunk_.size());
    stash_.insert(stash_.end(), chunk_.begin(), chunk_.begin() + static_cast<std::ptrdiff_t>(take));
    chunk_ = chunk_.subspan(take);
  }
  return Bytes(stash_).first(std::min(n, stash_.size()));
}

bool Reader::Read(void* out, std::size_t n) {
  auto* dst = static_cast<std::uint8_t*>(out);
  while (n > 0) {
    Bytes a = Available();
    if (a.empty()) return false;
    const std::size_t take = std::min(n, a.size());
    std::memcpy(dst, a.data(), take);
    Consume(take);
    dst += take;
    n -= take;
  }
  return true;
}

std::uint64_t Reader::Skip(std::uint64_t n) {
  std::uint64_t done = 0;
  while (done < n) {
    Bytes a = Available();
    if (a.empty()) break;
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, a.size()));
    Consume(take);
    done += take;
  }
  return done;
}

std::uint64_t Reader::Drain() {
  std::uint64_t done = 0;
  for (;;) {
    Bytes a = Available();
    if (a.empty()) return done;
    Consume(a.size());
    done += a.size();
  }
}

void HeadTail::Feed(Bytes b) {
  total_ += b.size();
  const auto* c = reinterpret_cast<const char*>(b.data());
  if (head_.size() < head_max_) head_.append(c, std::min(b.size(), head_max_ - head_.size()));
  if (b.size() >= tail_max_) {
    tail_.assign(c + b.size() - tail_max_, tail_max_);
  } else {
    const std::size_t keep = std::min(tail_.size(), tail_max_ - b.size());
    tail_.erase(0, tail_.size() - keep);
    tail_.append(c, b.size());
  }
}

std::string HexBytes(Bytes b, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < b.size() && i < n; ++i) {
    if (i) out += ' ';
    out += fmt::format("{:02x}", b[i]);
  }
  return out;
}

std::string Excerpt(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (u < 0x20 || u == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace mamori::backup
