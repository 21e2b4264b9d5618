#include "testing/cli.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"
#include "testing/ports.h"
#include "testing/spawn.h"

extern char** environ;

namespace mamori::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mamori-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  // "boot/vmlinuz-6.1.0" makes its directories, as a fixture tree needs.
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

namespace {

CliResult RunMamoriWithInput(const std::vector<std::string>& args,
                             const std::optional<std::string>& stdin_data) {
  ProcessOptions o;
  o.stdin_data = stdin_data;
  o.argv = {MAMORI_BINARY};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.timeout = std::chrono::seconds(60);
  o.max_output = 4 << 20;
  CliResult r;
  auto res = RunProcess(o);
  if (!res.ok()) {
    r.err = res.error().message();
    return r;
  }
  r.exit_code = res->exit_code;
  r.out = res->out;
  r.err = res->err;
  return r;
}

}  // namespace

CliResult RunMamori(const std::vector<std::string>& args) {
  return RunMamoriWithInput(args, std::nullopt);
}

CliResult RunMamori(const std::vector<std::string>& args, const std::string& stdin_data) {
  return RunMamoriWithInput(args, stdin_data);
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& args, const std::string& log_path,
                             const std::vector<std::string>& env,
                             const std::vector<std::string>& wrapper)
    : log_path_(log_path) {
  SpawnSpec spec;
  spec.argv = wrapper;
  spec.argv.insert(spec.argv.end(), {MAMORI_BINARY, "run"});
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output = log_path;
  spec.env = env;
  pid_ = SpawnServer(spec);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && !reaped_) StopProcess(pid_, SIGKILL);
}

void DaemonProcess::Signal(int sig) const {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

int DaemonProcess::Wait(std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    pid_t pid = pid_;
    if (ServerExited(pid, &status)) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string DaemonProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool DaemonProcess::WaitForLog(const std::string& text, std::chrono::seconds timeout) const {
  return Eventually([&] { return Log().find(text) != std::string::npos; }, timeout);
}

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace mamori::testing
