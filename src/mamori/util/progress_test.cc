#include "mamori/util/progress.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace mamori {
namespace {

using namespace std::chrono_literals;

TEST(Progress, FormatsPercentSizesRateAndTimeLeft) {
  EXPECT_EQ(Progress::Format("scan a.log", 50 << 20, 100 << 20, 2s, 100),
            "scan a.log   50%  50.0 MiB of 100.0 MiB  25.0 MiB/s  2.0s left");
  // Unknown size (standard input): bytes and rate only.
  EXPECT_EQ(Progress::Format("scan -", 3 << 20, 0, 1s, 100), "scan -  3.0 MiB  3.0 MiB/s");
  // Nothing read yet: no rate, no estimate, no division by zero.
  EXPECT_EQ(Progress::Format("scan a", 0, 10, 0s, 100), "scan a    0%  0 B of 10 B");
  // A long label is shortened from the left, the numbers are kept.
  std::string line = Progress::Format(
      "scan /var/log/a/very/long/path/to/some/file.log", 1, 2, 1s, 50);
  EXPECT_LE(line.size(), 50u);
  EXPECT_TRUE(line.starts_with("...")) << line;
  EXPECT_NE(line.find("50%"), std::string::npos) << line;
}

// What reaches the terminal: at most one redraw per 200 ms of the clock,
// the line erased at the end; nothing at all when the fd is not a terminal.
TEST(Progress, RedrawsAtMostFiveTimesASecondAndOnlyOnATerminal) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  FakeClock clock;
  {
    Progress quiet("scan x", 100, clock, fds[1]);  // a pipe: disabled
    EXPECT_FALSE(quiet.enabled());
    clock.Advance(1s);
    quiet.Update(50);
  }
  {
    Progress p("scan x", 100, clock, fds[1], /*force=*/true);
    for (int i = 1; i <= 10; ++i) {
      clock.Advance(50ms);
      p.Update(i * 10);
    }
  }
  close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, n);
  close(fds[0]);
  size_t draws = 0;
  for (size_t at = 0; (at = got.find('\r', at)) != std::string::npos; ++at) ++draws;
  EXPECT_EQ(draws, 3u) << got;  // at 200 ms and 400 ms, then the clearing one
  EXPECT_NE(got.find("40%"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("\r\x1b[K")) << got;
}

}  // namespace
}  // namespace mamori
