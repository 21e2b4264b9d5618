#include "mamori/probes/sntp.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>

#include "mamori/probes/net_address.h"

namespace mamori::sntp {
namespace {

// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
constexpr uint64_t kUnixToNtp = 2208988800ULL;
constexpr size_t kPacketSize = 48;

uint64_t ReadU64(std::span<const uint8_t> p, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | p[at + i];
  return v;
}

void WriteU64(std::array<uint8_t, kPacketSize>& p, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) p[at + 7 - i] = static_cast<uint8_t>(v >> (8 * i));
}

// A signed difference of two NTP timestamps (valid within +-68 years, which
// covers any clock error worth reporting).
Duration Diff(NtpTimestamp a, NtpTimestamp b) {
  const auto d = static_cast<int64_t>(a - b);  // two's complement wrap is the point
  // 2^-32 s units to nanoseconds without overflow: split seconds and fraction.
  const int64_t secs = d >> 32;
  const int64_t frac = d & 0xFFFFFFFFLL;
  return std::chrono::seconds(secs) + std::chrono::nanoseconds((frac * 1'000'000'000LL) >> 32);
}

struct UdpSocket {
  int fd = -1;
  ~UdpSocket() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

NtpTimestamp ToNtp(WallTime t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const uint64_t secs = static_cast<uint64_t>(ns / 1'000'000'000) + kUnixToNtp;
  const uint64_t frac = (static_cast<uint64_t>(ns % 1'000'000'000) << 32) / 1'000'000'000;
  return (secs << 32) | frac;
}

WallTime FromNtp(NtpTimestamp t) {
  const int64_t secs = static_cast<int64_t>(t >> 32) - static_cast<int64_t>(kUnixToNtp);
  const int64_t ns = static_cast<int64_t>(((t & 0xFFFFFFFFULL) * 1'000'000'000ULL) >> 32);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(secs) +
                                                                 std::chrono::nanoseconds(ns)));
}

Result<Reply> ParseReply(std::span<const uint8_t> p, NtpTimestamp sent) {
  if (p.size() < kPacketSize)
    return Error(fmt::format("short reply: {} bytes, an NTP packet has 48", p.size()));
  Reply r;
  r.leap = p[0] >> 6;
  const int version = (p[0] >> 3) & 7;
  const int mode = p[0] & 7;
  if (mode != 4 && mode != 5)
    return Error(fmt::format("not a server reply (mode {}, version {})", mode, version));
  r.stratum = p[1];
  if (r.stratum == 0) {
    std::string code;
    for (size_t i = 12; i < 16; ++i)
      if (p[i] >= 0x20 && p[i] < 0x7F) code += static_cast<char>(p[i]);
    return Error("the server refused to answer (kiss-o'-death " + (code.empty() ? "?" : code) +
                 (code == "RATE" ? ": asked too often)" : ")"));
  }
  if (r.stratum <= 1) {
    for (size_t i = 12; i < 16 && p[i] != 0; ++i)
      if (p[i] >= 0x20 && p[i] < 0x7F) r.reference += static_cast<char>(p[i]);
  } else {
    r.reference = fmt::format("{}.{}.{}.{}", p[12], p[13], p[14], p[15]);
  }
  r.originate = ReadU64(p, 24);
  r.receive = ReadU64(p, 32);
  r.transmit = ReadU64(p, 40);
  if (r.originate != sent)
    return Error("the reply does not answer our request (originate timestamp mismatch)");
  if (r.transmit == 0 || r.receive == 0) return Error("the reply carries no time");
  return r;
}

Measurement Compute(const Reply& r, WallTime t1, WallTime t4) {
  const NtpTimestamp n1 = ToNtp(t1), n4 = ToNtp(t4);
  Measurement m;
  m.reply = r;
  m.offset = (Diff(r.receive, n1) + Diff(r.transmit, n4)) / 2;
  m.delay = Diff(n4, n1) - Diff(r.transmit, r.receive);
  if (m.delay < Duration::zero()) m.delay = Duration::zero();
  return m;
}

namespace {

// "host" alone is allowed (port 123); ParseHostPort needs an explicit port.
Result<net::HostPort> ParseServer(const std::string& server) {
  std::string text = server;
  const size_t colons = std::count(server.begin(), server.end(), ':');
  const bool bracketed = !server.empty() && server.front() == '[';
  const bool has_port = bracketed ? server.back() != ']' : colons == 1;
  if (!has_port) text = (colons > 1 ? "[" + server + "]" : server) + ":123";
  return net::ParseHostPort(text);
}

}  // namespace

std::string ValidateServer(const std::string& server) {
  auto hp = ParseServer(server);
  return hp.ok() ? "" : hp.error().message();
}

Result<Measurement> Query(const std::string& server, Duration timeout) {
  auto hp = ParseServer(server);
  if (!hp.ok()) return Error("NTP server '" + server + "': " + hp.error().message());

  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(hp->port);
  if (int rc = ::getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Error("NTP server " + hp->host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);

  UdpSocket sock;
  sock.fd = ::socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock.fd < 0) return Error(std::string("socket: ") + std::strerror(errno));
  if (::connect(sock.fd, res->ai_addr, res->ai_addrlen) != 0)
    return Error(fmt::format("NTP server {}: {}", server, std::strerror(errno)));

  // The transmit timestamp doubles as a nonce: its low bits are random so a
  // reply to somebody else's request cannot match ours (RFC 4330 s. 3).
  std::array<uint8_t, kPacketSize> req{};
  req[0] = (0 << 6) | (4 << 3) | 3;  // no leap warning, version 4, client
  const WallTime t1 = SystemClock().Now();
  NtpTimestamp sent = ToNtp(t1);
  sent = (sent & ~0xFFFFULL) | (std::random_device{}() & 0xFFFFULL);
  WriteU64(req, 40, sent);
  if (::send(sock.fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size()))
    return Error(fmt::format("NTP server {}: send: {}", server, std::strerror(errno)));

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<uint8_t, 512> buf{};
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return Error(
          fmt::format("NTP server {} did not answer within {} ms", server,
                      std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
    pollfd pfd{sock.fd, POLLIN, 0};
    const int pr = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return Error(std::string("poll: ") + std::strerror(errno));
    if (pr == 0) continue;  // the deadline check above reports it
    const ssize_t n = ::recv(sock.fd, buf.data(), buf.size(), 0);
    const WallTime t4 = SystemClock().Now();
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Error(fmt::format("NTP server {}: {}", server,
                               errno == ECONNREFUSED ? "connection refused (nothing listens on "
                                                       "that UDP port)"
                                                     : std::strerror(errno)));
    }
    auto reply = ParseReply(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), sent);
    if (!reply.ok()) {
      // A mismatched originate is someone else's late answer: keep waiting.
      if (reply.error().message().find("originate") != std::string::npos) continue;
      return Error(fmt::format("NTP server {}: {}", server, reply.error().message()));
    }
    Measurement m = Compute(*reply, t1, t4);
    m.server = server;
    return m;
  }
}

}  // namespace mamori::sntp
