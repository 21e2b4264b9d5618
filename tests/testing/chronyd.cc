#include "testing/chronyd.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "mamori/probes/sntp.h"
#include "testing/ports.h"
#include "testing/spawn.h"

namespace mamori::testing {
namespace fs = std::filesystem;

std::unique_ptr<ChronydServer> ChronydServer::Start(const std::string& shift, std::string* error) {
  const char* chronyd = "/usr/sbin/chronyd";
  if (::access(chronyd, X_OK) != 0) {
    *error = "chronyd is not installed (Debian package chrony)";
    return nullptr;
  }
  // libfaketime is preloaded directly rather than through the faketime(1)
  // wrapper: the wrapper is one more process to stop (stopping it left
  // chronyd running).
  const std::string faketime_lib = FaketimeLibrary();
  if (!shift.empty() && faketime_lib.empty()) {
    *error = "libfaketime is not installed (Debian package faketime)";
    return nullptr;
  }
  std::unique_ptr<ChronydServer> s(new ChronydServer());
  std::string tmpl = (fs::temp_directory_path() / "mamori-chronyd-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = tmpl;
  s->port_ = PickFreePort();
  const std::string conf = s->dir_ + "/chrony.conf";
  {
    std::ofstream out(conf);
    out << "port " << s->port_ << "\nbindaddress 127.0.0.1\nallow 127.0.0.1\n"
        << "local stratum 8\ncmdport 0\ndriftfile " << s->dir_ << "/drift\npidfile " << s->dir_
        << "/chronyd.pid\n";
  }
  const std::string log = s->dir_ + "/chronyd.log";
  // Started through a symlink so its process name is not "chronyd": the
  // timesync check looks for running time daemons by name, and tests running
  // beside this one must not see a time daemon come and go.
  const std::string link = s->dir_ + "/test-ntp-server";
  std::error_code ec;
  fs::create_symlink(chronyd, link, ec);
  if (ec) {
    *error = "symlink: " + ec.message();
    return nullptr;
  }
  SpawnSpec spec;
  spec.argv = {link, "-f", conf, "-x", "-n", "-d", "-u", "root"};
  spec.output = log;
  // libfaketime still creates /dev/shm files of its own: see
  // RemoveFaketimeFiles.
  if (!shift.empty()) spec.env = {"LD_PRELOAD=" + faketime_lib, "FAKETIME=" + shift};
  s->pid_ = SpawnServer(spec);
  if (s->pid_ < 0) {
    *error = std::string("fork failed: ") + std::strerror(errno);
    return nullptr;
  }
  // Ready when it answers a real query (it binds before serving).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string last;
  while (std::chrono::steady_clock::now() < until) {
    auto m = sntp::Query(s->address(), std::chrono::milliseconds(200));
    if (m.ok()) return s;
    last = m.error().message();
    if (ServerExited(s->pid_)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "chronyd did not answer on " + s->address() + " (" + last + "): " + ReadFile(log);
  return nullptr;
}

ChronydServer::~ChronydServer() {
  const pid_t pid = pid_;
  StopProcess(pid_);
  RemoveFaketimeFiles(pid);
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

}  // namespace mamori::testing
