#include "mamori/daemon/default_config.h"

#include <glob.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <unistd.h>
#include <fstream>
#include <set>
#include <sstream>

#include "mamori/host/network_io.h"
#include "mamori/host/timedaemon_state.h"

namespace mamori {
namespace {

std::string Slug(const std::string& mount_point) {
  if (mount_point == "/") return "root";
  std::string out;
  for (char c : mount_point) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_';
    if (ok)
      out.push_back(c);
    else if (!out.empty() && out.back() != '-')
      out.push_back('-');
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (!out.empty() && out.front() == '-') out.erase(0, 1);
  return out.empty() ? "fs" : out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// YAML double-quoted scalar.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// The time daemon unit enabled under `fs_root` (a link in a .wants/
// directory of /etc/systemd/system), the first of the known ones; "".
std::string EnabledTimeDaemon(const std::string& fs_root) {
  for (const char* unit : host::timedaemon::kTimeUnits) {
    glob_t g{};
    const std::string pattern = fs_root + "/etc/systemd/system/*.wants/" + unit;
    const bool found = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0 && g.gl_pathc > 0;
    ::globfree(&g);
    if (found) return unit;
  }
  return "";
}

}  // namespace

std::string DefaultDataDir() {
  if (geteuid() == 0) return "/var/lib/mamori";
  if (const char* x = getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/mamori";
  if (const char* h = getenv("HOME"); h && *h) return std::string(h) + "/.local/state/mamori";
  return "./mamori-data";
}

std::vector<std::string> WellKnownSockets(const std::string& fs_root) {
  static constexpr const char* kPatterns[] = {
      "/run/php/*.sock",         "/run/php-fpm/*.sock",         "/var/run/php-fpm/*.sock",
      "/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock", "/run/postgresql/.s.PGSQL.*[0-9]",
  };
  std::set<std::string> found;
  for (const char* pattern : kPatterns) {
    glob_t g{};
    const std::string full = fs_root + pattern;
    if (::glob(full.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc && found.size() < 16; ++i) {
        struct stat st {};
        if (::lstat(g.gl_pathv[i], &st) == 0 && S_ISSOCK(st.st_mode)) found.insert(g.gl_pathv[i]);
      }
    }
    ::globfree(&g);
  }
  return {found.begin(), found.end()};
}

std::string DefaultConfigYaml(const std::string& data_dir, const std::string& proc_root,
                              const std::string& fs_root) {
  std::string y;
  y += "# mamori's embedded default for this machine. Save it, edit it, and use it\n";
  y += "# with `mamori check -c FILE` or `mamori run -c FILE`.\n";
  y += fmt::format("data_dir: {}\n", Quote(data_dir));
  y += "defaults: {interval: 60s, timeout: 10s, failures_before_alert: 3, "
       "successes_before_recovery: 2}\n";
  y += "checks:\n";
  std::set<std::string> names;
  for (const auto& m : RealFilesystems(ParseMountInfo(ReadFile(proc_root + "/self/mountinfo")))) {
    std::string name = "disk-" + Slug(m.mount_point);
    for (int i = 2; names.count(name); ++i)
      name = fmt::format("disk-{}-{}", Slug(m.mount_point), i);
    names.insert(name);
    y += fmt::format("  - {{name: {}, type: disk, path: {}, warning: 80%, critical: 90%}}\n", name,
                     Quote(m.mount_point));
  }
  y += "  - {name: memory, type: memory}\n";
  y += "  - {name: load, type: load}\n";
  y += "  - {name: tcp-listeners, type: listening}\n";
  y += "  - {name: time-sync, type: timesync}\n";
  // Only where systemd is PID 1 (sd_booted()'s test): elsewhere the check
  // would only ever say "no systemd here".
  struct stat sd {};
  if (::stat((fs_root + "/run/systemd/system").c_str(), &sd) == 0 && S_ISDIR(sd.st_mode))
    y += "  - {name: systemd-units, type: systemd}\n";
  // The network, where this host is meant to reach out: it has a default
  // route now, or resolv.conf names a resolver that is not on this host (so a
  // host whose DHCP failed at boot still gets the check, and says "no default
  // route"). An isolated host, with neither, would only ever be CRITICAL.
  {
    std::ifstream resolv(fs_root + "/etc/resolv.conf");
    std::ostringstream text;
    text << resolv.rdbuf();
    bool remote = false;
    for (const auto& ns : host::network::ParseNameservers(text.str()))
      remote = remote || !(ns.starts_with("127.") || ns == "::1");
    if (remote || !host::network::ReadDefaultRoutes(proc_root).empty())
      y += "  - {name: network, type: network}\n";
  }
  // The time daemon's own state (its unit enabled and stopped: incident 2),
  // read from systemd, so only where systemd runs.
  if (::stat((fs_root + "/run/systemd/system").c_str(), &sd) == 0 && S_ISDIR(sd.st_mode)) {
    // A stopped time daemon is started again (it only disciplines the
    // clock: always safe), at most twice an hour: the unit enabled here.
    const std::string unit = EnabledTimeDaemon(fs_root);
    y += unit.empty() ? "  - {name: time-daemon, type: timedaemon}\n"
                      : fmt::format(
                            "  - {{name: time-daemon, type: timedaemon, restart: {{unit: "
                            "{}, limit: 2, within: 1h}}}}\n",
                            unit);
  }
  // Stale pid, socket and lock files: wherever there is a /run (every Linux
  // host); owning units are named where systemd runs.
  struct stat run {};
  if (::stat((fs_root + "/run").c_str(), &run) == 0 && S_ISDIR(run.st_mode))
    y += "  - {name: stale-files, type: stale_files}\n";
  // The rest of "after a reboot": read-only remounts and unmounted fstab
  // entries, OOM kills and pending reboots, services on deleted libraries.
  // Inode use is each disk-* check's already: said once, not twice.
  y += "  - {name: mounts, type: mounts, inodes: false}\n";
  y += "  - {name: kernel, type: kernel}\n";
  y += "  - {name: deleted-libs, type: deleted_libs}\n";
  // What this host normally has, learned while every check is OK: names a
  // listener, process, unit or mount that did not come back.
  y += "  - {name: baseline, type: baseline}\n";
  for (const auto& sock : WellKnownSockets(fs_root)) {
    std::string base = sock.substr(sock.rfind('/') + 1);
    if (base.size() > 5 && base.ends_with(".sock")) base.resize(base.size() - 5);
    if (base.starts_with(".s.PGSQL.")) base = "postgresql-" + base.substr(9);
    std::string name = "socket-" + Slug(base);
    for (int i = 2; names.count(name); ++i) name = fmt::format("socket-{}-{}", Slug(base), i);
    names.insert(name);
    y += fmt::format("  - {{name: {}, type: socket, path: {}}}\n", name, Quote(sock));
  }
  return y;
}

}  // namespace mamori
