#include "testing/container.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"

namespace mamori::testing {
namespace {

namespace fs = std::filesystem;

std::string Nspawn() {
  for (const char* p : {"/usr/bin/systemd-nspawn", "/bin/systemd-nspawn"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

}  // namespace

std::string ContainerSkipReason() {
  if (::geteuid() != 0) return "booting a container with systemd-nspawn needs root";
  if (Nspawn().empty())
    return "systemd-nspawn is not installed (apt-get install systemd-container)";
  return "";
}

ContainerBoot BootContainer(const std::string& dir, const std::vector<ContainerUnit>& units,
                            std::chrono::seconds timeout) {
  ContainerBoot b;
  const std::string unitdir = dir + "/units";
  b.out_dir = dir + "/out";
  fs::create_directories(unitdir + "/multi-user.target.wants");
  fs::create_directories(b.out_dir);
  for (const auto& u : units) {
    std::ofstream(unitdir + "/" + u.name)
        << u.text << (u.install ? "[Install]\nWantedBy=multi-user.target\n" : "");
    if (u.enable && u.install)
      fs::create_symlink("../" + u.name, unitdir + "/multi-user.target.wants/" + u.name);
  }
  ProcessOptions o;
  o.argv = {Nspawn(),
            "--quiet",
            "--register=no",
            "--keep-unit",
            "-D",
            "/",
            "--volatile=yes",
            "--bind-ro=" + unitdir + ":/etc/systemd/system",
            "--bind=" + b.out_dir + ":/out",
            "--bind-ro=" + std::string(MAMORI_BINARY) + ":/mamori-bin",
            "--boot",
            "systemd.firstboot=off"};
  o.timeout = timeout;
  o.kill_grace = std::chrono::seconds(5);
  o.max_output = 256 * 1024;
  auto r = RunProcess(o);
  if (!r.ok()) {
    b.skip = "systemd-nspawn cannot be started: " + r.error().message();
    return b;
  }
  b.nspawn_err = r->err.substr(0, 4000);
  b.timed_out = r->timed_out;
  b.booted = fs::exists(b.out_dir + "/booted");
  if (!b.booted && !r->timed_out)
    b.skip = "systemd-nspawn cannot boot a container here (exit " + std::to_string(r->exit_code) +
             "): " + r->err.substr(0, 2000);
  return b;
}

}  // namespace mamori::testing
