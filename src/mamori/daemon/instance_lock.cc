#include "mamori/daemon/instance_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace mamori {
namespace {

// What the holder wrote into the file: its pid, or "" if unreadable.
std::string ReadHolder(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<InstanceLock> InstanceLock::Acquire(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error("cannot create data directory " + data_dir + ": " + ec.message());
  std::string path = data_dir + "/mamori.pid";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = ReadHolder(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Error("another mamori" + (holder.empty() ? "" : " (pid " + holder + ")") +
                   " is already running with data directory " + data_dir +
                   "; stop it first, or give this one its own data_dir");
    }
    return Error("cannot lock " + path + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock is what matters; a pid that could not be written is cosmetic.
  }
  return InstanceLock(fd, std::move(path));
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

InstanceLock::~InstanceLock() {
  // The file stays (unlinking would race a starting successor); closing the
  // descriptor releases the lock.
  if (fd_ >= 0) ::close(fd_);
}

std::optional<long> InstanceLockHolder(const std::string& data_dir, const std::string& proc_root) {
  struct stat st {};
  if (::stat((data_dir + "/mamori.pid").c_str(), &st) != 0) return std::nullopt;
  // A line: "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (device in hex).
  const std::string id = fmt::format("{:02x}:{:02x}:{}", major(st.st_dev), minor(st.st_dev),
                                     static_cast<unsigned long>(st.st_ino));
  std::ifstream in(proc_root + "/locks");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string n, kind, mode, rw, pid, dev;
    if (!(f >> n >> kind) || kind != "FLOCK") continue;
    if (f >> mode >> rw >> pid >> dev && dev == id) return std::strtol(pid.c_str(), nullptr, 10);
  }
  return std::nullopt;
}

}  // namespace mamori
