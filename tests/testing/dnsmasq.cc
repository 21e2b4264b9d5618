#include "testing/dnsmasq.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/nginx.h"

#include "testing/ports.h"
#include "testing/spawn.h"

namespace mamori::testing {
namespace fs = std::filesystem;

namespace {

// dnsmasq listens on TCP as well as UDP; both are bound before either is
// served, so a TCP connect that succeeds means the UDP side is ready too.
const char* DnsmasqBinary() {
  for (const char* p : {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"})
    if (::access(p, X_OK) == 0) return p;
  return "dnsmasq";
}

}  // namespace

std::unique_ptr<DnsmasqServer> DnsmasqServer::Start(const std::vector<std::string>& records,
                                                    std::string* error) {
  std::unique_ptr<DnsmasqServer> s(new DnsmasqServer());
  std::string tmpl = (fs::temp_directory_path() / "mamori-dnsmasq-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = tmpl;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = PickFreePort();
    std::vector<std::string> args = {
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        "--port=" + std::to_string(s->port_),
        "--pid-file=" + s->dir_ + "/dnsmasq.pid",
        "--log-facility=" + s->dir_ + "/dnsmasq.log",
        "--log-queries",
    };
    // As root dnsmasq would switch to 'nobody', which cannot write the log
    // in our directory; as another user it cannot switch at all.
    if (::geteuid() == 0) args.push_back("--user=root");
    args.insert(args.end(), records.begin(), records.end());

    args[0] = DnsmasqBinary();
    SpawnSpec spec;
    spec.argv = args;
    spec.output = s->dir_ + "/stderr.log";
    s->pid_ = SpawnServer(spec);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (s->pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      if (AcceptsOnLoopback(s->port_)) return s;
      if (ServerExited(s->pid_)) break;  // port taken or bad option; try again
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    StopProcess(s->pid_, SIGKILL);  // alive but never ready: do not leave it behind
  }
  *error = "dnsmasq did not start: " + ReadFile(s->dir_ + "/stderr.log") +
           ReadFile(s->dir_ + "/dnsmasq.log");
  return nullptr;
}

DnsmasqServer::~DnsmasqServer() {
  StopProcess(pid_);
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string DnsmasqServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::string DnsmasqServer::Log() const { return ReadFile(dir_ + "/dnsmasq.log"); }

}  // namespace mamori::testing
