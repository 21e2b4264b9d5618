#include "mamori/logs/line_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mamori::logs {

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

LineSplitter::LineSplitter(LineReaderOptions options) : options_(options) {
  if (options_.max_line_bytes == 0) options_.max_line_bytes = 1;
}

void LineSplitter::Feed(std::string_view chunk) {
  chunk_ = chunk;
  pos_ = 0;
}

bool LineSplitter::Emit(std::string_view text, bool truncated, Line* line) {
  if (!text.empty() && text.back() == '\r' && !truncated) text.remove_suffix(1);
  line->text = text;
  line->number = ++number_;
  line->truncated = truncated;
  line->invalid_utf8 = options_.check_utf8 && !IsValidUtf8(text);
  if (truncated) ++truncated_;
  if (line->invalid_utf8) ++invalid_utf8_;
  return true;
}

bool LineSplitter::NextLine(Line* line) {
  const size_t max = options_.max_line_bytes;
  while (pos_ < chunk_.size()) {
    std::string_view rest = chunk_.substr(pos_);
    const void* nlp = std::memchr(rest.data(), '\n', rest.size());
    if (nlp == nullptr) {
      // Unterminated: keep (bounded) for the next chunk.
      if (!carry_truncated_) {
        size_t room = max - std::min(max, carry_.size());
        carry_.append(rest.substr(0, std::min(room, rest.size())));
        if (rest.size() > room) carry_truncated_ = true;
      }
      pos_ = chunk_.size();
      return false;
    }
    size_t nl = static_cast<const char*>(nlp) - rest.data();
    pos_ += nl + 1;
    if (carry_.empty() && !carry_truncated_) {
      std::string_view text = rest.substr(0, nl);
      if (text.size() > max) return Emit(text.substr(0, max), true, line);
      return Emit(text, false, line);
    }
    // Completes a line started in an earlier chunk.
    bool truncated = carry_truncated_;
    if (!truncated) {
      size_t room = max - std::min(max, carry_.size());
      carry_.append(rest.substr(0, std::min(room, nl)));
      truncated = nl > room;
    }
    // The view must stay valid until the next call: swap into a buffer that
    // is only cleared on the next call.
    emitted_.swap(carry_);
    carry_.clear();
    carry_truncated_ = false;
    return Emit(emitted_, truncated, line);
  }
  return false;
}

bool LineSplitter::Finish(Line* line) {
  if (carry_.empty() && !carry_truncated_) return false;
  emitted_.swap(carry_);
  carry_.clear();
  bool truncated = carry_truncated_;
  carry_truncated_ = false;
  return Emit(emitted_, truncated, line);
}

struct LineReader::Gzip {
  z_stream zs{};
  bool ended = false;  // the current member ended
  ~Gzip() { inflateEnd(&zs); }
};

LineReader::LineReader(std::string path, int fd, LineReaderOptions options)
    : path_(std::move(path)), fd_(fd), options_(options), splitter_(options) {
  if (options_.block_bytes < 4096) options_.block_bytes = 4096;
}

LineReader::~LineReader() {
  if (fd_ > 0) ::close(fd_);
}

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path,
                                                     LineReaderOptions options) {
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<LineReader>(new LineReader(path, fd, options));
}

namespace {
// read() until `want` bytes or EOF; -1 on error.
ssize_t ReadFull(int fd, char* buf, size_t want) {
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::read(fd, buf + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    got += n;
  }
  return static_cast<ssize_t>(got);
}
}  // namespace

ssize_t LineReader::ReadBlock(std::string* buf) {
  buf->resize(options_.block_bytes);
  ssize_t n = ReadFull(fd_, buf->data(), buf->size());
  if (n < 0) {
    status_ = Error(path_ + ": " + std::strerror(errno));
    return -1;
  }
  buf->resize(n);
  bytes_read_ += n;
  return n;
}

bool LineReader::Fill() {
  if (eof_ || !status_.ok()) return false;
  if (!started_) {
    started_ = true;
    if (ReadBlock(&raw_) < 0) return false;
    if (raw_.size() >= 2 && static_cast<unsigned char>(raw_[0]) == 0x1f &&
        static_cast<unsigned char>(raw_[1]) == 0x8b) {
      gzip_ = std::make_unique<Gzip>();
      if (inflateInit2(&gzip_->zs, 15 + 32) != Z_OK) {
        status_ = Error(path_ + ": cannot initialise zlib");
        return false;
      }
      gzip_->zs.next_in = reinterpret_cast<Bytef*>(raw_.data());
      gzip_->zs.avail_in = static_cast<uInt>(raw_.size());
    } else {
      block_.swap(raw_);
      if (block_.empty()) eof_ = true;
      return !block_.empty();
    }
  } else if (!gzip_) {
    const ssize_t n = ReadBlock(&block_);
    if (n < 0) return false;
    if (n == 0) eof_ = true;
    return n > 0;
  }
  // gzip: inflate until some output or end of input.
  z_stream& zs = gzip_->zs;
  block_.resize(options_.block_bytes);
  zs.next_out = reinterpret_cast<Bytef*>(block_.data());
  zs.avail_out = static_cast<uInt>(block_.size());
  while (zs.avail_out > 0) {
    if (zs.avail_in == 0) {
      const ssize_t n = ReadBlock(&raw_);
      if (n < 0) return false;
      if (n == 0) {
        if (!gzip_->ended) status_ = Error(path_ + ": gzip data is truncated");
        eof_ = true;
        break;
      }
      zs.next_in = reinterpret_cast<Bytef*>(raw_.data());
      zs.avail_in = static_cast<uInt>(raw_.size());
    }
    if (gzip_->ended) {
      // Another member follows (concatenated .gz files, e.g. from logrotate
      // with delaycompress and cat).
      if (inflateReset(&zs) != Z_OK) {
        status_ = Error(path_ + ": zlib reset failed");
        return false;
      }
      gzip_->ended = false;
    }
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      gzip_->ended = true;
    } else if (rc == Z_BUF_ERROR) {
      if (zs.avail_in == 0) continue;
      break;
    } else if (rc != Z_OK) {
      status_ = Error(path_ + ": corrupt gzip data (" + (zs.msg ? zs.msg : "inflate failed") + ")");
      eof_ = true;
      break;
    }
  }
  block_.resize(block_.size() - zs.avail_out);
  return !block_.empty();
}

bool LineReader::Next(Line* line) {
  for (;;) {
    if (splitter_.NextLine(line)) return true;
    if (!Fill()) return splitter_.Finish(line);
    splitter_.Feed(block_);
  }
}

}  // namespace mamori::logs
