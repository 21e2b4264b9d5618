// The remove_stale_socket remedy step: removes a Unix socket only when
// connecting to it is refused (nobody listens: it is stale). Incident 1: a
// PHP-FPM socket left behind by a crash kept the service down.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "mamori/remedy/remedy.h"
#include "mamori/remedy/steps_common.h"
#include "mamori/util/unix_connect.h"

namespace mamori::remedy {
namespace {

// A non-blocking connect to a Unix socket answers at once on Linux; this only
// bounds the poll for kernels that report EINPROGRESS.
constexpr Duration kSocketConnectTimeout = std::chrono::seconds(5);

class RemoveStaleSocket : public StepAction {
 public:
  explicit RemoveStaleSocket(std::string path) : path_(std::move(path)) {}
  std::string Describe() const override { return "remove_stale_socket " + path_; }
  StepOutcome Run(const Plan&) const override;

 private:
  std::string path_;
};

StepOutcome RemoveStaleSocket::Run(const Plan&) const {
  StepOutcome o{Describe(), false, ""};
  struct stat st {};
  if (::lstat(path_.c_str(), &st) != 0) {
    o.ok = errno == ENOENT;
    o.detail = errno == ENOENT ? "not there: nothing to remove"
                               : fmt::format("cannot stat: {}", std::strerror(errno));
    return o;
  }
  if (!S_ISSOCK(st.st_mode)) {
    o.detail = "not a socket: left alone";
    return o;
  }
  std::string why;
  if (!SocketIsStale(path_, &why)) {
    // A live socket needs no removal; whatever else is wrong is not this
    // step's business, so the next steps still run.
    o.ok = true;
    o.detail = why + ": left alone";
    return o;
  }
  if (::unlink(path_.c_str()) != 0) {
    o.detail = fmt::format("stale, but cannot remove: {}", std::strerror(errno));
    return o;
  }
  o.ok = true;
  o.detail = "stale (connection refused): removed";
  return o;
}

std::unique_ptr<StepAction> Read(config::ConfigNode& step) {
  auto path = ReadAbsolutePath(step, "remove_stale_socket");
  if (!path) return nullptr;
  return std::make_unique<RemoveStaleSocket>(*path);
}

}  // namespace

bool SocketIsStale(const std::string& path, std::string* why) {
  SystemClock clock;
  const int err = TryUnixConnect(path, clock.Monotonic() + kSocketConnectTimeout, clock);
  if (err == 0) {
    *why = "live (accepts connections)";
    return false;
  }
  if (err == ECONNREFUSED) {
    *why = "stale (connection refused)";
    return true;
  }
  if (err == EAGAIN || err == ETIMEDOUT) {
    *why = "live but overloaded (listen backlog full)";
    return false;
  }
  if (err == ENAMETOOLONG) {
    *why = "path too long for a socket";
    return false;
  }
  *why = std::string("not judged stale: ") + std::strerror(err);
  return false;
}

}  // namespace mamori::remedy

namespace mamori::remedies::remove_stale_socket {

void Register(remedy::StepRegistry& registry) {
  registry.Add({"remove_stale_socket", "PATH",
                "removes a Unix socket nobody listens on (connection refused)", remedy::Read});
}

}  // namespace mamori::remedies::remove_stale_socket
