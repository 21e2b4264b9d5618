// Tests for TryUnixConnect against real Unix sockets: a listener, a stale
// socket file, a full listen backlog, and paths that cannot work.
#include "mamori/util/unix_connect.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "testing/cli.h"
#include "testing/full_backlog_socket.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

// A socket bound at `path`; listening unless `listen` is false.
int Bind(const std::string& path, bool listen) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  if (listen) {
    EXPECT_EQ(::listen(fd, 16), 0);
  }
  return fd;
}

TEST(UnixConnect, LiveStaleAndMissing) {
  testing::TempDir dir;
  SystemClock clock;
  const std::string live = dir.path() + "/live.sock";
  const int l = Bind(live, true);
  EXPECT_EQ(TryUnixConnect(live, clock.Monotonic() + 2s, clock), 0);
  // Bound but not listening: what a crashed server's leftover file answers.
  const std::string stale = dir.path() + "/stale.sock";
  const int s = Bind(stale, false);
  EXPECT_EQ(TryUnixConnect(stale, clock.Monotonic() + 2s, clock), ECONNREFUSED);
  EXPECT_EQ(TryUnixConnect(dir.path() + "/none.sock", clock.Monotonic() + 2s, clock), ENOENT);
  EXPECT_EQ(TryUnixConnect("/" + std::string(200, 'a'), clock.Monotonic() + 2s, clock),
            ENAMETOOLONG);
  ::close(l);
  ::close(s);
}

TEST(UnixConnect, FullBacklogAnswersAtOnceInsteadOfBlocking) {
  testing::TempDir dir;
  SystemClock clock;
  const std::string path = dir.path() + "/busy.sock";
  std::string error;
  auto busy = testing::FullBacklogSocket::Start(path, &error);
  ASSERT_TRUE(busy) << error;
  const MonoTime start = clock.Monotonic();
  EXPECT_EQ(TryUnixConnect(path, start + 2s, clock), EAGAIN);
  EXPECT_LT(clock.Monotonic() - start, 2s);
  // Even with the deadline already past there is one honest attempt.
  EXPECT_EQ(TryUnixConnect(path, start, clock), EAGAIN);
}

}  // namespace
}  // namespace mamori
