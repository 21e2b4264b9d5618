// Check type "listening": which TCP ports this machine listens on, which
// process owns each, and whether each listener really accepts a connection.
// Used by `mamori doctor` without configuration; `ports` turns it into a
// "these services must be listening" check.
//
// Listeners come from /proc/net/tcp and tcp6 (state LISTEN). Owners are found
// by matching socket inodes against /proc/<pid>/fd (best effort: without root
// only our own processes are visible; unknown owners are shown as the bare
// port). With `connect` (default), every distinct address:port is connected
// to in parallel with non-blocking sockets and one poll loop, bounded by a
// 1 s timeout and the run's deadline: a wildcard address is tried on
// loopback (127.0.0.1 or ::1), a specific address as is, IPv6 link-local
// addresses are not tried (they need an interface). A listener whose accept
// queue is full times out: the service is hung, which is CRITICAL.
// The connection is closed at once without sending anything.
//
// Stateless; thread-safe. At most 512 endpoints are connected per run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

#include "mamori/check/registry.h"
#include "mamori/probes/proc_net.h"
#include "mamori/util/units.h"

namespace mamori::probes::listening {
namespace {

constexpr size_t kMaxConnects = 512;
constexpr size_t kMaxPortsInSummary = 15;

struct Options {
  std::vector<int> ports;
  bool connect = true;
  Duration connect_timeout = std::chrono::seconds(1);
};

struct Endpoint {
  const procnet::TcpEntry* entry;
  std::string label;  // "0.0.0.0:22"
  std::string owner;  // "sshd" or ""
  int pid = 0;
  bool tried = false;
  std::string error;  // empty: accepted (or not tried)
};

// The address to connect to for a listener, or false if it cannot be tried.
bool TargetFor(const procnet::TcpEntry& e, sockaddr_storage& ss, socklen_t& len) {
  std::memset(&ss, 0, sizeof(ss));
  if (!e.ipv6 || e.IsV4Mapped()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.local_port);
    if (e.ipv6)
      std::memcpy(&sin->sin_addr, e.local_addr + 12, 4);
    else if (e.IsAnyAddress())
      sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
      std::memcpy(&sin->sin_addr, e.local_addr, 4);
    len = sizeof(sockaddr_in);
    return true;
  }
  if (e.local_addr[0] == 0xfe && (e.local_addr[1] & 0xc0) == 0x80) return false;  // link-local
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.local_port);
  if (e.IsAnyAddress())
    sin6->sin6_addr = in6addr_loopback;
  else
    std::memcpy(&sin6->sin6_addr, e.local_addr, 16);
  len = sizeof(sockaddr_in6);
  return true;
}

// Connects to every endpoint in parallel; fills Endpoint::error.
void ConnectAll(std::vector<Endpoint*>& eps, MonoTime give_up, const Clock& clock) {
  struct Pending {
    Endpoint* ep;
    int fd;
  };
  std::vector<Pending> pending;
  for (Endpoint* ep : eps) {
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!TargetFor(*ep->entry, ss, len)) continue;
    ep->tried = true;
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ep->error = std::strerror(errno);
      continue;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
      ::close(fd);
      continue;
    }
    if (errno != EINPROGRESS) {
      ep->error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    pending.push_back({ep, fd});
  }
  while (!pending.empty()) {
    auto left = std::chrono::duration_cast<Millis>(give_up - clock.Monotonic()).count();
    if (left <= 0) break;
    std::vector<pollfd> pfds;
    for (const auto& p : pending) pfds.push_back({p.fd, POLLOUT, 0});
    int n = ::poll(pfds.data(), pfds.size(), static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    std::vector<Pending> still;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (pfds[i].revents == 0) {
        still.push_back(pending[i]);
        continue;
      }
      int err = 0;
      socklen_t elen = sizeof(err);
      if (::getsockopt(pending[i].fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) err = errno;
      if (err != 0) pending[i].ep->error = std::strerror(err);
      ::close(pending[i].fd);
    }
    pending.swap(still);
  }
  for (const auto& p : pending) {
    p.ep->error = "timed out";
    ::close(p.fd);
  }
}

class ListeningProbe final : public BlockingProbe {
 public:
  explicit ListeningProbe(Options o, std::string proc_root = "/proc")
      : o_(std::move(o)), proc_root_(std::move(proc_root)) {}

  Observation Run(const Clock& clock, MonoTime deadline) override {
    auto table = procnet::ReadTcpTables(proc_root_);
    if (!table.ok())
      return Observation::Make(CheckStatus::kUnknown,
                               "cannot read the TCP table: " + table.error().message());
    auto owners = procnet::MapSocketOwners(proc_root_);

    // One endpoint per distinct address:port (SO_REUSEPORT servers have many
    // sockets on one), keeping the first owner found.
    std::map<std::string, Endpoint> by_label;
    for (const auto& e : table->entries) {
      if (e.state != procnet::kTcpListen) continue;
      std::string addr = e.LocalAddress();
      std::string label = e.ipv6 ? fmt::format("[{}]:{}", addr, e.local_port)
                                 : fmt::format("{}:{}", addr, e.local_port);
      auto& ep = by_label[label];
      if (!ep.entry) {
        ep.entry = &e;
        ep.label = label;
      }
      if (ep.owner.empty()) {
        if (auto it = owners.find(e.inode); it != owners.end() && e.inode != 0) {
          ep.owner = it->second.comm;
          ep.pid = it->second.pid;
        }
      }
    }
    std::vector<Endpoint*> eps;
    for (auto& [label, ep] : by_label) eps.push_back(&ep);
    std::stable_sort(eps.begin(), eps.end(), [](const Endpoint* a, const Endpoint* b) {
      return a->entry->local_port < b->entry->local_port;
    });
    if (o_.connect) {
      std::vector<Endpoint*> to_try(eps.begin(), eps.begin() + std::min(eps.size(), kMaxConnects));
      MonoTime give_up = std::min(deadline, clock.Monotonic() + o_.connect_timeout);
      ConnectAll(to_try, give_up, clock);
    }

    // Per port: the owner names seen (for the summary).
    std::map<int, std::set<std::string>> ports;
    for (const Endpoint* ep : eps) {
      auto& names = ports[ep->entry->local_port];
      if (!ep->owner.empty()) names.insert(ep->owner);
    }
    auto port_label = [&](int port) {
      const auto& names = ports[port];
      std::string s = std::to_string(port);
      for (const auto& n : names) s += " " + n;
      return s;
    };

    Observation obs;
    std::vector<std::string> problems;
    for (int want : o_.ports)
      if (!ports.count(want)) problems.push_back(fmt::format("nothing listens on {}", want));
    int failures = 0;
    for (const Endpoint* ep : eps) {
      obs.details += fmt::format("{} {}{}{}\n", ep->label, ep->owner.empty() ? "?" : ep->owner,
                                 ep->pid ? fmt::format(" (pid {})", ep->pid) : "",
                                 !ep->tried          ? ""
                                 : ep->error.empty() ? " accepts"
                                                     : " does not accept: " + ep->error);
      if (ep->tried && !ep->error.empty()) {
        ++failures;
        problems.push_back(fmt::format("{}{} does not accept connections: {}", ep->label,
                                       ep->owner.empty() ? "" : " " + ep->owner, ep->error));
      }
    }
    obs.AddMetric("listeners", static_cast<double>(ports.size()));
    if (o_.connect) obs.AddMetric("connect_failures", failures);
    if (table->malformed_lines > 0)
      obs.details += fmt::format("({} malformed lines skipped)\n", table->malformed_lines);

    if (!problems.empty()) {
      obs.status = CheckStatus::kCritical;
      for (size_t i = 0; i < problems.size() && i < 3; ++i)
        obs.summary += (i ? "; " : "") + problems[i];
      if (problems.size() > 3) obs.summary += fmt::format("; and {} more", problems.size() - 3);
      return obs;
    }
    obs.status = CheckStatus::kOk;
    obs.summary = fmt::format("{} TCP listener{}", ports.size(), ports.size() == 1 ? "" : "s");
    size_t i = 0;
    for (const auto& [port, names] : ports) {
      if (i == kMaxPortsInSummary) {
        obs.summary += ", ...";
        break;
      }
      obs.summary += (i++ ? ", " : ": ") + port_label(port);
    }
    return obs;
  }

 private:
  Options o_;
  std::string proc_root_;
};

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  bool ok = true;
  if (auto v = node.GetBool("connect")) o.connect = *v;
  if (auto list = node.GetStringList("ports")) {
    for (const auto& s : *list) {
      int port = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), port);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || port < 1 || port > 65535) {
        node.ErrorAt("ports", fmt::format("'{}' is not a TCP port", s),
                     "write port numbers from 1 to 65535, e.g. ports: [22, 80, 5432]");
        ok = false;
        continue;
      }
      o.ports.push_back(port);
    }
  }
  if (!ok) return nullptr;
  return std::make_unique<ListeningProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("listening", "TCP listeners with their processes; each must accept a connection", Build);
}

}  // namespace mamori::probes::listening
