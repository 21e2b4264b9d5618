#include "testing/nspawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"

namespace mamori::testing {
namespace {

namespace fs = std::filesystem;

std::string NspawnPath() {
  for (const char* p : {"/usr/bin/systemd-nspawn", "/bin/systemd-nspawn"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

}  // namespace

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string NspawnUnavailable() {
  if (::geteuid() != 0) return "booting a container with systemd-nspawn needs root";
  if (NspawnPath().empty())
    return "systemd-nspawn is not installed (apt-get install systemd-container)";
  return "";
}

namespace {

std::string UniqueMachineName() {
  static std::atomic<int> boots{0};
  return "--machine=mamori-test-" + std::to_string(::getpid()) + "-" + std::to_string(++boots);
}

}  // namespace

// Held for one boot: containers of this machine's own root booted at the
// same time (ctest -j) disturb each other (one of them then never reaches
// multi-user.target), so the tests that boot one take turns.
class BootLock {
 public:
  BootLock() : fd_(::open("/tmp/mamori-test-nspawn.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~BootLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  BootLock(const BootLock&) = delete;
  BootLock& operator=(const BootLock&) = delete;

 private:
  int fd_;
};

NspawnOutcome BootContainer(const TempDir& dir, const NspawnBoot& boot) {
  BootLock turn;
  NspawnOutcome out;
  const std::string unitdir = dir.path() + "/" + boot.units_dir;
  out.out = dir.path() + "/out";
  fs::create_directories(unitdir + "/multi-user.target.wants");
  fs::create_directories(out.out);
  fs::remove(out.out + "/booted");  // an earlier boot's, when DIR/out is shared
  auto add = [&](const std::string& name, const std::string& text, bool enable) {
    dir.Write(boot.units_dir + "/" + name, text);
    if (enable) fs::create_symlink("../" + name, unitdir + "/multi-user.target.wants/" + name);
  };
  for (const auto& u : boot.units)
    add(u.name, u.text + "[Install]\nWantedBy=multi-user.target\n", u.enable);
  add("runner.service", boot.runner, true);

  ProcessOptions o;
  o.argv = {NspawnPath(), "--quiet", "--register=no", "--keep-unit",
            // A name of its own: containers booted at the same time (ctest -j)
            // must not share /run/systemd/nspawn/propagate/<name>, which
            // nspawn removes when one of them stops.
            UniqueMachineName(), "-D", "/", "--volatile=yes",
            "--bind-ro=" + unitdir +
                (boot.host_config || boot.writable_root ? ":/etc/systemd/system.control"
                                                        : ":/etc/systemd/system"),
            "--bind=" + out.out + ":/out",
            "--bind-ro=" + std::string(MAMORI_BINARY) + ":/mamori-bin"};
  if (boot.private_network) o.argv.push_back("--private-network");
  if (boot.host_config || boot.writable_root)
    o.argv.insert(o.argv.end(), {"--overlay=/etc::/etc", "--overlay=/var::/var"});
  if (boot.writable_root) o.argv.push_back("--overlay=/usr::/usr");
  for (const auto& [host, inside] : boot.bind_ro)
    o.argv.push_back("--bind-ro=" + host + ":" + inside);
  for (const auto& [host, inside] : boot.bind) o.argv.push_back("--bind=" + host + ":" + inside);
  o.argv.insert(o.argv.end(), boot.extra_args.begin(), boot.extra_args.end());
  o.argv.insert(o.argv.end(), {"--boot", "systemd.firstboot=off"});
  o.timeout = boot.timeout;
  o.kill_grace = std::chrono::seconds(5);
  o.max_output = 256 * 1024;
  auto r = RunProcess(o);
  if (!r.ok()) {
    out.skip = "systemd-nspawn cannot be started: " + r.error().message();
    return out;
  }
  out.err = r->err;
  out.timed_out = r->timed_out;
  out.booted = fs::exists(out.out + "/booted");
  if (!out.booted) {
    if (r->timed_out)
      ADD_FAILURE() << "the container did not reach multi-user.target within "
                    << boot.timeout.count() << " s:\n"
                    << r->err.substr(0, 4000);
    else
      out.skip = "systemd-nspawn cannot boot a container here (exit " +
                 std::to_string(r->exit_code) + "): " + r->err.substr(0, 2000);
  }
  return out;
}

std::string OutLine(const NspawnOutcome& out, const std::string& name) {
  std::string s = Slurp(out.out + "/" + name);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace mamori::testing
