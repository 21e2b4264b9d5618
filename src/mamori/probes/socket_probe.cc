// Check type "socket": a Unix domain stream socket (PHP-FPM, MariaDB,
// PostgreSQL, Dovecot auth) accepts connections. Incident 1 is why: after a
// crash the PHP-FPM socket file was still there with nothing behind it, and
// the restart failed until someone removed it. A file check sees the file;
// only a connect tells a live socket from a stale one, and the summary says
// which and what to do.
//
// Verdicts: connect succeeds -> OK (with the connect time); the path is
// missing -> CRITICAL; not a socket -> CRITICAL; ECONNREFUSED -> CRITICAL
// "stale socket" (the file outlived its process); EACCES -> CRITICAL
// "permission denied" naming owner and mode (the web server's user cannot
// reach the socket either); EAGAIN (backlog full) -> WARNING "overloaded",
// which is also what nginx meets then (its 502s say "Resource temporarily
// unavailable"). The connect is non-blocking and bounded by the deadline
// (TryUnixConnect): a blocking one would sleep for as long as the backlog
// stays full. Stateless; thread-safe.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "mamori/check/registry.h"
#include "mamori/util/units.h"
#include "mamori/util/unix_connect.h"

namespace mamori::probes::socket {
namespace {

class SocketProbe final : public BlockingProbe {
 public:
  explicit SocketProbe(std::string path) : path_(std::move(path)) {}

  Observation Run(const Clock& clock, MonoTime deadline) override {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) {
      if (errno == ENOENT)
        return Observation::Make(CheckStatus::kCritical,
                                 fmt::format("socket {} does not exist: the service is not "
                                             "running (or listens elsewhere)",
                                             path_));
      return Observation::Make(CheckStatus::kUnknown,
                               fmt::format("cannot stat {}: {}", path_, std::strerror(errno)));
    }
    if (!S_ISSOCK(st.st_mode))
      return Observation::Make(CheckStatus::kCritical,
                               fmt::format("{} is not a socket but a {}", path_, Kind(st.st_mode)));
    const MonoTime start = clock.Monotonic();
    const int err = TryUnixConnect(path_, deadline, clock);
    const Duration took = clock.Monotonic() - start;
    Observation o;
    o.AddMetric("connect_ms", std::chrono::duration<double, std::milli>(took).count());
    o.AddMetric("age_s", AgeSeconds(st));
    if (err == 0) {
      o.status = CheckStatus::kOk;
      o.summary = fmt::format("socket {} accepts connections ({})", path_, FormatDuration(took));
      return o;
    }
    switch (err) {
      case ECONNREFUSED:
        o.status = CheckStatus::kCritical;
        o.summary = fmt::format(
            "stale socket {}: the file exists but nothing accepts on it (connection refused); "
            "the process that created it is gone: remove the file, then start the service",
            path_);
        break;
      case EACCES:
      case EPERM:
        o.status = CheckStatus::kCritical;
        o.summary = fmt::format(
            "permission denied connecting to {} (mode {:04o}, owner uid {}, "
            "group gid {}): fix the socket's owner/mode in the service's "
            "configuration",
            path_, st.st_mode & 07777, st.st_uid, st.st_gid);
        break;
      case EAGAIN:
        o.status = CheckStatus::kWarning;
        o.summary = fmt::format("socket {} is overloaded: its listen backlog is full", path_);
        break;
      case ETIMEDOUT:
        o.status = CheckStatus::kWarning;
        o.summary = fmt::format("socket {} is overloaded: connecting took longer than {}", path_,
                                FormatDuration(took));
        break;
      default:
        o.status = CheckStatus::kCritical;
        o.summary = fmt::format("cannot connect to {}: {}", path_, std::strerror(err));
    }
    return o;
  }

 private:
  static const char* Kind(mode_t m) {
    if (S_ISREG(m)) return "regular file";
    if (S_ISDIR(m)) return "directory";
    if (S_ISLNK(m)) return "symbolic link";
    if (S_ISFIFO(m)) return "named pipe";
    return "special file";
  }
  static double AgeSeconds(const struct stat& st) {
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const double m = static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
    return now > m ? now - m : 0;
  }

  std::string path_;
};

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  auto path = node.GetString("path");
  if (!path) {
    node.Error("missing 'path'",
               "name the Unix socket to connect to, e.g. path: /run/php/php-fpm.sock");
    return nullptr;
  }
  if (path->empty() || (*path)[0] != '/') {
    node.ErrorAt("path", fmt::format("'{}' is not an absolute path", *path),
                 "write the full path, starting with '/'");
    return nullptr;
  }
  if (path->size() >= sizeof(sockaddr_un{}.sun_path)) {
    node.ErrorAt("path",
                 fmt::format("'{}' is {} bytes; a Unix socket path has at most {}", *path,
                             path->size(), sizeof(sockaddr_un{}.sun_path) - 1),
                 "use a shorter path (or a symlinked directory)");
    return nullptr;
  }
  return std::make_unique<SocketProbe>(*path);
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("socket", "a Unix domain socket accepts connections (tells live from stale)", Build);
}

}  // namespace mamori::probes::socket
