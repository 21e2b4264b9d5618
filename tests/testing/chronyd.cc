#include "testing/chronyd.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "mamori/probes/sntp.h"
#include "testing/ports.h"

namespace mamori::testing {
namespace fs = std::filesystem;

std::unique_ptr<ChronydServer> ChronydServer::Start(const std::string& shift, std::string* error) {
  const char* chronyd = "/usr/sbin/chronyd";
  if (::access(chronyd, X_OK) != 0) {
    *error = "chronyd is not installed (Debian package chrony)";
    return nullptr;
  }
  if (!shift.empty() && ::access("/usr/bin/faketime", X_OK) != 0) {
    *error = "faketime is not installed (Debian package faketime)";
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
  std::vector<std::string> args;
  if (!shift.empty()) args = {"/usr/bin/faketime", "-f", shift};
  for (const std::string& a : {link, std::string("-f"), conf, std::string("-x"), std::string("-n"),
                               std::string("-d"), std::string("-u"), std::string("root")})
    args.push_back(a);
  s->pid_ = ::fork();
  if (s->pid_ < 0) {
    *error = "fork failed";
    return nullptr;
  }
  if (s->pid_ == 0) {
    std::FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      ::dup2(fileno(f), 1);
      ::dup2(fileno(f), 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  // Ready when it answers a real query (it binds before serving).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string last;
  while (std::chrono::steady_clock::now() < until) {
    auto m = sntp::Query(s->address(), std::chrono::milliseconds(200));
    if (m.ok()) return s;
    last = m.error().message();
    int status = 0;
    if (::waitpid(s->pid_, &status, WNOHANG) == s->pid_) {
      s->pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "chronyd did not answer on " + s->address() + " (" + last + "): " + ReadFile(log);
  return nullptr;
}

ChronydServer::~ChronydServer() {
  StopProcess(pid_);
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

}  // namespace mamori::testing
