#include "testing/sse_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mamori::testing {
namespace {

using Steady = std::chrono::steady_clock;

std::chrono::milliseconds Left(Steady::time_point end) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(end - Steady::now()));
}

}  // namespace

SseClient::SseClient(int port, const std::string& target, const std::string& extra_headers,
                     int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              "Accept: text/event-stream\r\nConnection: close\r\n" + extra_headers +
                              "\r\n";
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request.size()))
    Close();
}

SseClient::~SseClient() { Close(); }

void SseClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SseClient::ReadSome(std::chrono::milliseconds left) {
  if (fd_ < 0 || closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return true;  // nothing yet
  char buf[8192];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  received_.append(buf, static_cast<size_t>(n));
  return true;
}

bool SseClient::WaitFor(const std::string& text, std::chrono::milliseconds deadline) {
  return WaitForCount(text, 1, deadline);
}

bool SseClient::WaitForCount(const std::string& text, size_t times,
                             std::chrono::milliseconds deadline) {
  const auto end = Steady::now() + deadline;
  while (Count(text) < times) {
    if (Left(end).count() == 0 || !ReadSome(Left(end))) break;
  }
  return Count(text) >= times;
}

void SseClient::ReadFor(std::chrono::milliseconds time) {
  const auto end = Steady::now() + time;
  while (Left(end).count() > 0 && ReadSome(Left(end))) {
  }
}

bool SseClient::WaitClosed(std::chrono::milliseconds deadline) {
  const auto end = Steady::now() + deadline;
  while (!closed_ && Left(end).count() > 0 && ReadSome(Left(end))) {
  }
  return closed_;
}

bool SseClient::PeerGone() const {
  if (fd_ < 0) return closed_;
  pollfd p{fd_, POLLRDHUP, 0};
  return closed_ || (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP)));
}

int SseClient::status() const {
  if (received_.rfind("HTTP/1.", 0) != 0 || received_.size() < 12) return 0;
  return std::atoi(received_.substr(9, 3).c_str());
}

size_t SseClient::Count(const std::string& text) const {
  auto& [n, searched] = counted_[text];
  for (size_t at = received_.find(text, searched); at != std::string::npos;
       at = received_.find(text, at + text.size())) {
    ++n;
    searched = at + text.size();
  }
  // A match may begin in the last text.size() - 1 bytes: search those again.
  if (received_.size() + 1 > searched + text.size()) searched = received_.size() + 1 - text.size();
  return n;
}

}  // namespace mamori::testing
