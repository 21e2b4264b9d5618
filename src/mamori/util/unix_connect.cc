#include "mamori/util/unix_connect.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mamori {
namespace {

// Waits for a pending connect on `fd` until `deadline`; returns its errno
// (0 connected, ETIMEDOUT when the deadline passed first).
int AwaitConnect(int fd, MonoTime deadline, const Clock& clock) {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - clock.Monotonic()).count();
    if (left <= 0) return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) continue;  // the loop re-reads the clock and ends at the deadline
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
  }
}

}  // namespace

int TryUnixConnect(const std::string& path, MonoTime deadline, const Clock& clock) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return ENAMETOOLONG;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int err = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    err = errno;
    // EINTR: the connect goes on in the background, as with EINPROGRESS.
    if (err == EINPROGRESS || err == EINTR) err = AwaitConnect(fd, deadline, clock);
  }
  ::close(fd);
  return err;
}

}  // namespace mamori
