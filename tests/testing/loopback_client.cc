#include "testing/loopback_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace mamori::testing {

int OpenFrom(const std::string& from, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

using Steady = std::chrono::steady_clock;

int MillisLeft(Steady::time_point end) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(end - Steady::now()).count()));
}

// Waits for the connect and sends all of `data` before `end`; false if the
// connect or a send failed or the time ran out.
bool SendAll(int fd, const std::string& data, Steady::time_point end) {
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, MillisLeft(end)) <= 0) return false;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) return false;
    p = {fd, POLLOUT, 0};
    if (::poll(&p, 1, MillisLeft(end)) <= 0) return false;
  }
  return true;
}

int StatusOf(const std::string& response) {
  return response.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(response.c_str() + 9) : 0;
}

}  // namespace

int Request(int port, const std::string& request, std::chrono::milliseconds deadline) {
  const auto end = Steady::now() + deadline;
  int fd = OpenFrom("127.0.0.1", port);
  if (fd < 0) return 0;
  SendAll(fd, request, end);
  std::string in;
  char buf[4096];
  while (in.find("\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, MillisLeft(end)) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return StatusOf(in);
}

int Exchange::status() const { return StatusOf(response); }

Exchange SendAndRead(int fd, const std::string& request, std::chrono::milliseconds deadline) {
  const auto start = Steady::now();
  const auto end = start + deadline;
  Exchange x;
  SendAll(fd, request, end);
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, MillisLeft(end)) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      x.closed = n == 0 || errno != EAGAIN;
      break;
    }
    x.response.append(buf, static_cast<size_t>(n));
  }
  x.took = Steady::now() - start;
  return x;
}

std::string PingRequest(const std::string& uuid, const std::string& body) {
  return "POST /ping/" + uuid +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace mamori::testing
