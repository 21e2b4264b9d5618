#include "mamori/util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace mamori {

Result<bool> WriteFileAtomically(const std::string& path, std::string_view text, int mode) {
  // A temporary of its own per writer: two processes replacing the same file
  // at once (two `mamori logs scan` filling one cache) must not write into
  // one shared PATH.tmp and rename the other's half-written bytes.
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  const bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    return Error(fmt::format("cannot write {}: {}", path, std::strerror(e)));
  }
  // The rename itself is durable once the directory is.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace mamori
