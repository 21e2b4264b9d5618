#include "mamori/util/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mamori/util/units.h"

namespace mamori {
namespace {

constexpr auto kRedrawEvery = std::chrono::milliseconds(200);

size_t TerminalWidth(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  return 80;
}

}  // namespace

Progress::Progress(std::string label, uint64_t total_bytes, const Clock& clock, int fd, bool force)
    : label_(std::move(label)),
      total_(total_bytes),
      clock_(clock),
      fd_(fd),
      enabled_(force || ::isatty(fd) == 1),
      started_(clock.Monotonic()),
      last_draw_(started_) {}

Progress::~Progress() { Clear(); }

void Progress::Restart(std::string label, uint64_t total_bytes) {
  label_ = std::move(label);
  total_ = total_bytes;
  started_ = clock_.Monotonic();
}

void Progress::Update(uint64_t done) {
  if (!enabled_) return;
  const MonoTime now = clock_.Monotonic();
  if (now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  Draw(Format(label_, done, total_, now - started_, TerminalWidth(fd_) - 1));
}

void Progress::Clear() {
  if (!drawn_) return;
  drawn_ = false;
  Draw("");
  drawn_ = false;
}

void Progress::Draw(const std::string& line) {
  // "\r", the line, then erase to the end of the line (a shorter line must
  // not leave the end of a longer one behind).
  const std::string out = "\r" + line + "\x1b[K";
  [[maybe_unused]] ssize_t n = ::write(fd_, out.data(), out.size());
  drawn_ = true;
}

std::string Progress::Format(std::string_view label, uint64_t done, uint64_t total,
                             Duration elapsed, size_t width) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  std::string tail;
  if (total > 0) {
    const uint64_t shown = std::min(done, total);
    tail = fmt::format("  {:>3}%  {} of {}", shown * 100 / total, FormatBytes(shown),
                       FormatBytes(total));
  } else {
    tail = "  " + FormatBytes(done);
  }
  if (rate > 0) {
    tail += fmt::format("  {}/s", FormatBytes(static_cast<uint64_t>(rate)));
    if (total > done) {
      const auto left = std::chrono::seconds(static_cast<int64_t>((total - done) / rate + 0.5));
      tail += "  " + FormatDuration(left) + " left";
    }
  }
  std::string head(label);
  if (head.size() + tail.size() > width) {
    const size_t keep = width > tail.size() + 4 ? width - tail.size() - 3 : 0;
    head = keep ? "..." + head.substr(head.size() - keep) : "";
  }
  std::string line = head + tail;
  if (line.size() > width) line.resize(width);
  return line;
}

}  // namespace mamori
