#include "mamori/remedy/remedy.h"

#include <dirent.h>
#include <glob.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "mamori/util/subprocess.h"

namespace mamori::remedy {
namespace {

constexpr size_t kMaxSteps = 20;
constexpr size_t kMaxGlobMatches = 100;
constexpr size_t kMaxDetail = 300;

std::string Describe(const Step& s) {
  switch (s.kind) {
    case StepKind::kRemoveStaleSocket:
      return "remove_stale_socket " + s.path;
    case StepKind::kRemoveUnusedFiles:
      return "remove_unused_files " + s.path;
    case StepKind::kCommand: {
      std::string out;
      for (const auto& a : s.argv) out += (out.empty() ? "" : " ") + a;
      return out;
    }
  }
  return "?";
}

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > kMaxDetail) s = s.substr(0, kMaxDetail) + "...";
  return s;
}

StepOutcome RemoveStaleSocket(const Step& step) {
  StepOutcome o{Describe(step), false, ""};
  struct stat st {};
  if (::lstat(step.path.c_str(), &st) != 0) {
    o.ok = errno == ENOENT;
    o.detail = errno == ENOENT ? "not there: nothing to remove"
                               : fmt::format("cannot stat: {}", std::strerror(errno));
    return o;
  }
  if (!S_ISSOCK(st.st_mode)) {
    o.detail = "not a socket: left alone";
    return o;
  }
  std::string why;
  if (!SocketIsStale(step.path, &why)) {
    // A live socket needs no removal; whatever else is wrong is not this
    // step's business, so the next steps still run.
    o.ok = true;
    o.detail = why + ": left alone";
    return o;
  }
  if (::unlink(step.path.c_str()) != 0) {
    o.detail = fmt::format("stale, but cannot remove: {}", std::strerror(errno));
    return o;
  }
  o.ok = true;
  o.detail = "stale (connection refused): removed";
  return o;
}

StepOutcome RemoveUnusedFiles(const Step& step, const std::string& proc_root) {
  StepOutcome o{Describe(step), false, ""};
  glob_t g{};
  std::vector<std::string> matches;
  const int rc = ::glob(step.path.c_str(), 0, nullptr, &g);
  for (size_t i = 0; rc == 0 && i < g.gl_pathc && i < kMaxGlobMatches; ++i) {
    struct stat st {};
    if (::lstat(g.gl_pathv[i], &st) == 0 && (S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode)))
      matches.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (matches.empty()) {
    o.ok = true;
    o.detail = "no matching files: nothing to remove";
    return o;
  }
  bool unknown = false;
  const auto busy = OpenByAnyProcess(matches, proc_root, &unknown);
  if (unknown) {
    o.detail = "cannot see every process's open files (run mamori as root): removed nothing";
    return o;
  }
  const std::set<std::string> in_use(busy.begin(), busy.end());
  std::vector<std::string> removed, kept, failed;
  for (const auto& m : matches) {
    if (in_use.count(m)) {
      kept.push_back(m);
    } else if (::unlink(m.c_str()) == 0) {
      removed.push_back(m);
    } else {
      failed.push_back(m + " (" + std::strerror(errno) + ")");
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  std::vector<std::string> parts;
  if (!removed.empty()) parts.push_back("removed " + join(removed));
  if (!kept.empty()) parts.push_back("in use, kept " + join(kept));
  if (!failed.empty()) parts.push_back("could not remove " + join(failed));
  o.ok = failed.empty();
  std::string detail;
  for (const auto& part : parts) detail += (detail.empty() ? "" : "; ") + part;
  o.detail = OneLine(detail);
  return o;
}

StepOutcome RunCommand(const Step& step, Duration timeout) {
  StepOutcome o{Describe(step), false, ""};
  ProcessOptions po;
  po.argv = step.argv;
  po.merge_stderr = true;
  po.timeout = timeout;
  po.max_output = 4096;
  // A remedy usually starts a service, and a daemon that forks into the
  // background is still in our process group for a moment before setsid():
  // it must survive the command's exit (a timeout still kills the group).
  po.kill_group_on_exit = false;
  auto r = RunProcess(po);
  if (!r.ok()) {
    o.detail = r.error().message();
    return o;
  }
  std::string tail = OneLine(r->out);
  if (r->timed_out) {
    o.detail = fmt::format("timed out after {}s{}",
                           std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                           tail.empty() ? "" : ": " + tail);
  } else if (r->term_signal > 0) {
    o.detail = fmt::format("killed by signal {}", r->term_signal);
  } else {
    o.ok = r->exit_code == 0;
    o.detail = fmt::format("exited {}{}", r->exit_code, tail.empty() ? "" : ": " + tail);
  }
  return o;
}

}  // namespace

bool SocketIsStale(const std::string& path, std::string* why) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    *why = "path too long for a socket";
    return false;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(fd);
  if (rc == 0) {
    *why = "live (accepts connections)";
    return false;
  }
  if (err == ECONNREFUSED) {
    *why = "stale (connection refused)";
    return true;
  }
  *why = std::string("not judged stale: ") + std::strerror(err);
  return false;
}

std::vector<std::string> OpenByAnyProcess(const std::vector<std::string>& paths,
                                          const std::string& proc_root, bool* unknown) {
  *unknown = false;
  // Compare by device and inode, not by name: /proc/PID/fd links name the
  // file as the process opened it (relative paths, bind mounts).
  std::set<std::pair<dev_t, ino_t>> wanted;
  std::vector<std::pair<std::pair<dev_t, ino_t>, std::string>> by_id;
  for (const auto& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      wanted.insert({st.st_dev, st.st_ino});
      by_id.push_back({{st.st_dev, st.st_ino}, p});
    }
  }
  std::set<std::pair<dev_t, ino_t>> open;
  DIR* proc = ::opendir(proc_root.c_str());
  if (!proc) {
    *unknown = true;
    return {};
  }
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string fd_dir = proc_root + "/" + e->d_name + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (!fds) {
      // Gone since the listing (fine), or not ours to read (not fine).
      if (errno == EACCES || errno == EPERM) *unknown = true;
      continue;
    }
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      struct stat st {};
      if (::stat((fd_dir + "/" + f->d_name).c_str(), &st) != 0) continue;
      if (wanted.count({st.st_dev, st.st_ino})) open.insert({st.st_dev, st.st_ino});
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  std::vector<std::string> out;
  for (const auto& [id, p] : by_id)
    if (open.count(id)) out.push_back(p);
  return out;
}

std::string Outcome::Summary() const {
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!out.empty()) out += "; ";
    out += steps[i].step + ": " + steps[i].detail;
  }
  if (ok) return "remedy ok: " + out;
  return fmt::format("remedy failed at step {}: {}", steps.size(), out);
}

Outcome Execute(const Plan& plan) {
  Outcome out;
  for (const auto& step : plan.steps) {
    StepOutcome s;
    switch (step.kind) {
      case StepKind::kRemoveStaleSocket:
        s = RemoveStaleSocket(step);
        break;
      case StepKind::kRemoveUnusedFiles:
        s = RemoveUnusedFiles(step, plan.proc_root);
        break;
      case StepKind::kCommand:
        s = RunCommand(step, plan.command_timeout);
        break;
    }
    out.steps.push_back(s);
    if (!s.ok) {
      out.ok = false;
      break;
    }
  }
  return out;
}

bool Guard::TryAcquire(const Plan& plan, WallTime now) {
  if (attempts_in_window(plan, now) >= static_cast<size_t>(plan.max_attempts)) return false;
  attempts_.push_back(now);
  return true;
}

size_t Guard::attempts_in_window(const Plan& plan, WallTime now) {
  while (!attempts_.empty() && now - attempts_.front() >= plan.window) attempts_.pop_front();
  return attempts_.size();
}

std::shared_ptr<const Plan> ReadPlan(config::ConfigNode& check) {
  if (!check.Has("remedy")) {
    check.Known("remedy");
    return nullptr;
  }
  auto node = check.GetMap("remedy");
  if (!node) return nullptr;
  auto plan = std::make_shared<Plan>();
  bool ok = true;
  if (auto v = node->GetInt("max_attempts", 1, 100)) plan->max_attempts = static_cast<int>(*v);
  if (auto v = node->GetDuration("window")) plan->window = *v;
  if (auto v = node->GetDuration("timeout")) plan->command_timeout = *v;
  auto steps = node->GetMapList("steps");
  if (!steps || steps->empty()) {
    if (!node->Has("steps") || (steps && steps->empty()))
      node->Error("remedy has no steps",
                  "list what to do under steps:, e.g. steps: [{remove_stale_socket: "
                  "/run/php/php-fpm.sock}, {command: [systemctl, restart, php-fpm]}]");
    return nullptr;
  }
  if (steps->size() > kMaxSteps) {
    node->ErrorAt("steps", fmt::format("{} steps; at most {}", steps->size(), kMaxSteps),
                  "split the work into a script and run it with command:");
    return nullptr;
  }
  for (auto& s : *steps) {
    Step step;
    int kinds = 0;
    if (auto p = s.GetString("remove_stale_socket")) {
      step.kind = StepKind::kRemoveStaleSocket;
      step.path = *p;
      ++kinds;
    }
    if (auto p = s.GetString("remove_unused_files")) {
      step.kind = StepKind::kRemoveUnusedFiles;
      step.path = *p;
      ++kinds;
    }
    if (s.Has("command")) {
      const YAML::Node& c = s.yaml()["command"];
      if (!c.IsSequence() || c.size() == 0) {
        s.ErrorAt("command", "command must be a list: the program and its arguments",
                  "write command: [systemctl, restart, php8.2-fpm] (no shell is involved)");
        ok = false;
      }
      auto argv = s.GetStringList("command");
      if (argv) step.argv = *argv;
      step.kind = StepKind::kCommand;
      ++kinds;
    }
    if (kinds != 1) {
      s.Error(kinds == 0 ? "a remedy step needs one action" : "a remedy step has several actions",
              "each step is exactly one of remove_stale_socket: PATH, remove_unused_files: GLOB, "
              "command: [ARGV]");
      ok = false;
      continue;
    }
    if (step.kind != StepKind::kCommand && (step.path.empty() || step.path[0] != '/')) {
      s.Error(fmt::format("'{}' is not an absolute path", step.path),
              "write the full path, starting with '/'");
      ok = false;
      continue;
    }
    if (step.kind == StepKind::kRemoveUnusedFiles &&
        (step.path == "/" || step.path.ends_with("/*") || step.path.ends_with("/"))) {
      s.Error(fmt::format("'{}' would match whole directories of files", step.path),
              "name the stale files precisely, e.g. /tmp/mpmtx* or /run/app/*.lock");
      ok = false;
      continue;
    }
    plan->steps.push_back(std::move(step));
  }
  if (!ok) return nullptr;
  return plan;
}

}  // namespace mamori::remedy
