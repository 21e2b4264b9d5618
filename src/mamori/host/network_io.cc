#include "mamori/host/network_io.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "mamori/net/dns_message.h"
#include "mamori/util/units.h"

namespace mamori::host::network {
namespace {

constexpr const char* kQueryName = "localhost";
constexpr auto kResend = std::chrono::seconds(1);
constexpr auto kPollStep = std::chrono::milliseconds(100);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A socket that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct SockAddr {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};

// ip:port as a socket address (numeric only: never a name lookup).
Result<SockAddr> Numeric(const std::string& ip, uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(ip.c_str(), service.c_str(), &hints, &ai) != 0 || !ai)
    return Error(fmt::format("'{}' is not an IP address", ip));
  SockAddr a;
  std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
  a.len = ai->ai_addrlen;
  a.family = ai->ai_family;
  ::freeaddrinfo(ai);
  return a;
}

// A non-blocking UDP socket connected to ip:port.
Result<Fd> ConnectUdp(const std::string& ip, uint16_t port) {
  auto a = Numeric(ip, port);
  if (!a.ok()) return a.error();
  Fd fd(::socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a->addr), a->len) != 0)
    return Error(std::strerror(errno));
  return fd;
}

// Milliseconds to wait: at most `step`, never past the deadline (0: passed).
int WaitMs(const Clock& clock, MonoTime deadline, Duration step) {
  auto left = deadline - clock.Monotonic();
  if (left <= Duration::zero()) return 0;
  return static_cast<int>(std::max<int64_t>(
      1, std::chrono::ceil<std::chrono::milliseconds>(std::min(left, step)).count()));
}

}  // namespace

std::vector<DefaultRoute> ReadDefaultRoutes(const std::string& proc_root) {
  auto v = ParseRoutes4(ReadFile(proc_root + "/net/route"));
  auto v6 = ParseRoutes6(ReadFile(proc_root + "/net/ipv6_route"));
  v.insert(v.end(), v6.begin(), v6.end());
  return v;
}

GatewayReading AskGateway(const std::string& gateway, const std::string& iface,
                          const std::string& proc_root, const Clock& clock, MonoTime deadline,
                          uint16_t port) {
  using V = GatewayReading::Verdict;
  GatewayReading g{V::kUnknown, gateway, iface, ""};
  auto fd = ConnectUdp(gateway, port);
  if (!fd.ok()) {
    g.how = "cannot send to it: " + fd.error().message();
    return g;
  }
  const char probe = 'm';
  int err = ::send(fd->get(), &probe, 1, 0) < 0 ? errno : 0;
  bool incomplete = false;
  for (;;) {
    if (err == 0) {
      char buf[64];
      if (::recv(fd->get(), buf, sizeof buf, 0) < 0 && errno != EAGAIN) err = errno;
    }
    if (err == ECONNREFUSED) return {V::kAnswered, gateway, iface, "port unreachable from it"};
    if (err == EHOSTUNREACH || err == ENETUNREACH)
      return {V::kNoAnswer, gateway, iface, "host unreachable (no ARP reply)"};
    if (auto arp = FindArp(ReadFile(proc_root + "/net/arp"), gateway, iface)) {
      if (arp->complete) return {V::kAnswered, gateway, iface, "ARP entry valid"};
      incomplete = true;
    }
    const int wait = WaitMs(clock, deadline, kPollStep);
    if (wait == 0) break;
    pollfd p{fd->get(), POLLIN, 0};
    ::poll(&p, 1, wait);
    err = 0;
  }
  if (incomplete) return {V::kNoAnswer, gateway, iface, "its ARP entry is incomplete"};
  g.how = "no ARP entry and no reply";
  return g;
}

Result<Endpoint> ParseEndpoint(const std::string& text) {
  Endpoint e;
  std::string port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string::npos) return Error("missing ']'");
    e.ip = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return Error("expected ':' after ']'");
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    e.ip = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  } else {
    e.ip = text;
  }
  if (!port.empty()) {
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || p < 1 || p > 65535) return Error(fmt::format("bad port '{}'", port));
    e.port = static_cast<uint16_t>(p);
  }
  // Only the syntax: whether it can be reached is the check's question.
  if (auto a = Numeric(e.ip, e.port); !a.ok()) return a.error();
  return e;
}

namespace {

struct Pending {
  ResolverReading* out;
  Fd fd;
  uint16_t id;
  std::vector<uint8_t> query;
  MonoTime first_sent, last_sent;
};

// Reads what `p`'s socket has; true once the resolver's fate is known.
bool ReadAnswer(Pending& p, const Clock& clock) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = ::recv(p.fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return false;
      p.out->error = errno == ECONNREFUSED ? "connection refused (nothing listens there)"
                                           : std::strerror(errno);
      return true;
    }
    // Stray or malformed datagrams are not the answer: keep waiting.
    auto reply = dns::ParseReply({buf, static_cast<size_t>(n)}, kQueryName, dns::kTypeA);
    if (!reply.ok() || reply->id != p.id) continue;
    p.out->answered = true;
    p.out->rcode = reply->rcode;
    p.out->rtt = clock.Monotonic() - p.first_sent;
    return true;
  }
}

}  // namespace

std::vector<ResolverReading> AskResolvers(const std::vector<std::string>& servers,
                                          const Clock& clock, MonoTime deadline) {
  std::vector<ResolverReading> out(servers.size());
  std::vector<Pending> pending;
  std::random_device rd;
  const MonoTime start = clock.Monotonic();
  for (size_t i = 0; i < servers.size(); ++i) {
    out[i].server = servers[i];
    auto ep = ParseEndpoint(servers[i]);
    auto fd = ep.ok() ? ConnectUdp(ep->ip, ep->port) : Result<Fd>(ep.error());
    if (!fd.ok()) {
      out[i].error = fd.error().message();
      continue;
    }
    const auto id = static_cast<uint16_t>(rd());
    auto query = dns::EncodeQuery(id, kQueryName, dns::kTypeA);
    if (!query.ok()) continue;  // a constant name: cannot happen
    pending.push_back({&out[i], std::move(*fd), id, std::move(*query), start, MonoTime{}});
  }
  while (!pending.empty()) {
    const MonoTime now = clock.Monotonic();
    for (auto& p : pending)
      if (p.last_sent == MonoTime{} || now - p.last_sent >= kResend) {
        (void)::send(p.fd.get(), p.query.data(), p.query.size(), 0);  // errors show on recv
        p.last_sent = now;
      }
    const int wait = WaitMs(clock, deadline, kPollStep);
    if (wait == 0) break;
    std::vector<pollfd> fds;
    for (auto& p : pending) fds.push_back({p.fd.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), wait) <= 0) continue;
    std::erase_if(pending, [&](Pending& p) { return ReadAnswer(p, clock); });
  }
  for (auto& p : pending) p.out->error = "no answer within " + FormatDuration(deadline - start);
  return out;
}

std::map<std::string, uint64_t> ReadCarrierDowns(const std::string& sys_root) {
  std::map<std::string, uint64_t> out;
  const std::string dir = sys_root + "/class/net";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || out.size() >= kMaxInterfaces) continue;
    const std::string base = dir + "/" + name + "/";
    std::string text = ReadFile(base + "carrier_down_count");
    uint64_t divisor = 1;
    if (text.empty()) {
      // Counts ups and downs, starting with the first up.
      text = ReadFile(base + "carrier_changes");
      divisor = 2;
    }
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (end != text.c_str()) out[name] = v / divisor;
  }
  ::closedir(d);
  return out;
}

}  // namespace mamori::host::network
