#include "testing/full_backlog_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mamori::testing {
namespace {

constexpr int kMaxClients = 64;  // backlog 0 fills after one or two

sockaddr_un Address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), std::min(path.size(), sizeof a.sun_path - 1));
  return a;
}

}  // namespace

std::unique_ptr<FullBacklogSocket> FullBacklogSocket::Start(const std::string& path,
                                                            std::string* error) {
  std::unique_ptr<FullBacklogSocket> s(new FullBacklogSocket());
  s->path_ = path;
  const sockaddr_un addr = Address(path);
  s->listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->listener_ < 0 ||
      ::bind(s->listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(s->listener_, 0) != 0) {
    *error = "listening on " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  // Queue connections that nobody accepts until the kernel refuses one more.
  for (int i = 0; i < kMaxClients; ++i) {
    const int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c < 0) break;
    if (::connect(c, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      s->clients_.push_back(c);
      continue;
    }
    const int err = errno;
    ::close(c);
    if (err == EAGAIN) return s;
    *error = "filling the backlog of " + path + ": " + std::strerror(err);
    return nullptr;
  }
  *error = "the backlog of " + path + " never filled up";
  return nullptr;
}

FullBacklogSocket::~FullBacklogSocket() {
  for (int c : clients_) ::close(c);
  if (listener_ >= 0) ::close(listener_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace mamori::testing
