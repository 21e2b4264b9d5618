#include "mamori/daemon/instance_lock.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "testing/cli.h"
#include "testing/ports.h"

namespace mamori {
namespace {

TEST(InstanceLock, SecondHolderIsRefusedWithThePidAndFreedOnRelease) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  {
    auto first = InstanceLock::Acquire(data);
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_EQ(testing::ReadFile(data + "/mamori.pid"), std::to_string(::getpid()) + "\n");
    // flock locks belong to the open file description, so a second open in
    // the same process conflicts just as another process would.
    auto second = InstanceLock::Acquire(data);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().message().find("another mamori (pid " + std::to_string(::getpid()) +
                                            ") is already running with data directory " + data),
              std::string::npos)
        << second.error().message();
  }
  auto again = InstanceLock::Acquire(data);
  EXPECT_TRUE(again.ok()) << again.error().message();
}

TEST(InstanceLock, ALockHeldByAKilledProcessIsGone) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = InstanceLock::Acquire(data);
    char c = lock.ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) _exit(2);
    ::pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_FALSE(InstanceLock::Acquire(data).ok());
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_TRUE(InstanceLock::Acquire(data).ok());
}

}  // namespace
}  // namespace mamori
