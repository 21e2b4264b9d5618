#include "mamori/host/baseline.h"

#include <fnmatch.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <sstream>

#include "mamori/host/mounts.h"
#include "mamori/probes/proc_net.h"
#include "mamori/probes/procfs.h"

namespace mamori::host::baseline {

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kListener:
      return "listener";
    case Kind::kProcess:
      return "process";
    case Kind::kUnit:
      return "unit";
    case Kind::kMount:
      return "mount";
  }
  return "?";
}

std::optional<Kind> ParseKind(std::string_view s) {
  if (s == "processes")
    s = "process";
  else if (s.ends_with('s') && s != "process")
    s.remove_suffix(1);  // "listeners", "units", "mounts"

  for (Kind k : kAllKinds)
    if (KindName(k) == s) return k;
  return std::nullopt;
}

bool Includes(const SnapshotOptions& o, Kind k) { return o.include[static_cast<size_t>(k)]; }

namespace {

// Seconds since boot, from <proc_root>/uptime; nullopt when unreadable.
std::optional<double> Uptime(const std::string& proc_root) {
  auto text = procfs::ReadFileBounded(proc_root + "/uptime", 256);
  if (!text.ok()) return std::nullopt;
  double up = 0;
  std::istringstream in(*text);
  if (!(in >> up)) return std::nullopt;
  return up;
}

// How long the process has been running; nullopt when it cannot be told
// (then it counts as young: nothing unknown is learned).
std::optional<Duration> AgeOf(const procfs::ProcStat& st, std::optional<double> uptime) {
  static const long kTicks = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
  if (!uptime) return std::nullopt;
  const double age = *uptime - static_cast<double>(st.start_ticks) / static_cast<double>(kTicks);
  if (age < 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(age));
}

bool OldEnough(const std::string& proc_root, int pid, std::optional<double> uptime,
               Duration min_age) {
  auto st = procfs::ReadStat(proc_root, pid);
  if (!st.ok()) return false;
  auto age = AgeOf(*st, uptime);
  return age && *age >= min_age;
}

// The kernel's ephemeral port range (ip_local_port_range), or its default.
std::pair<int, int> EphemeralRange(const std::string& proc_root) {
  auto text = procfs::ReadFileBounded(proc_root + "/sys/net/ipv4/ip_local_port_range", 256);
  int lo = 32768, hi = 60999;
  if (text.ok()) {
    std::istringstream in(*text);
    int a = 0, b = 0;
    if (in >> a >> b && a > 0 && a <= b) lo = a, hi = b;
  }
  return {lo, hi};
}

std::vector<procnet::TcpEntry> UdpBound(const std::string& proc_root) {
  constexpr int kUdpUnconnected = 0x07;  // TCP_CLOSE: bound, not connected
  std::vector<procnet::TcpEntry> out;
  for (auto [file, v6] : {std::pair{"/net/udp", false}, std::pair{"/net/udp6", true}}) {
    auto text = procfs::ReadFileBounded(proc_root + file, 32 << 20);
    if (!text.ok()) continue;
    for (auto& e : procnet::ParseTcpTable(*text, v6).entries)
      if (e.state == kUdpUnconnected && e.remote_port == 0) out.push_back(e);
  }
  return out;
}

// Keeps one item per key (the first, learnable if any of them is) and sorts.
std::vector<Item> Merge(std::vector<Item> items, size_t max) {
  std::stable_sort(items.begin(), items.end());
  std::vector<Item> out;
  for (auto& i : items) {
    if (!out.empty() && out.back().Key() == i.Key()) {
      out.back().learnable = out.back().learnable || i.learnable;
      if (out.back().detail.empty()) out.back().detail = i.detail;
      continue;
    }
    if (out.size() >= max) break;
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace

Result<std::vector<Item>> ReadListeners(const SnapshotOptions& o) {
  auto table = procnet::ReadTcpTables(o.proc_root);
  if (!table.ok()) return table.error();
  std::vector<procnet::TcpEntry> tcp;
  for (auto& e : table->entries)
    if (e.state == procnet::kTcpListen) tcp.push_back(e);
  std::vector<procnet::TcpEntry> udp = UdpBound(o.proc_root);
  if (tcp.empty() && udp.empty()) return std::vector<Item>{};
  const auto owners = procnet::MapSocketOwners(o.proc_root);
  const auto [lo, hi] = EphemeralRange(o.proc_root);
  const auto uptime = Uptime(o.proc_root);
  std::vector<Item> items;
  auto add = [&](const procnet::TcpEntry& e, bool is_udp) {
    Item i;
    i.kind = Kind::kListener;
    i.name = fmt::format("{}/{}", e.local_port, is_udp ? "udp" : "tcp");
    auto owner = owners.find(e.inode);
    if (owner != owners.end()) i.detail = procfs::Printable(owner->second.comm, 32);
    const bool ephemeral = e.local_port >= lo && e.local_port <= hi;
    // A UDP socket on an ephemeral port is a client's; a TCP listener there
    // is a real service only if its process has been up for a while.
    if (ephemeral)
      i.learnable = !is_udp && owner != owners.end() &&
                    OldEnough(o.proc_root, owner->second.pid, uptime, o.min_owner_age);
    items.push_back(std::move(i));
  };
  for (const auto& e : tcp) add(e, false);
  for (const auto& e : udp) add(e, true);
  return Merge(std::move(items), o.max_per_kind);
}

Result<std::vector<Item>> ReadProcesses(const SnapshotOptions& o) {
  auto pids = procfs::ListPids(o.proc_root, o.max_pids);
  if (!pids.ok()) return pids.error();
  const auto uptime = Uptime(o.proc_root);
  std::vector<Item> items;
  for (int pid : *pids) {
    auto st = procfs::ReadStat(o.proc_root, pid);
    // Kernel threads (children of kthreadd), zombies, and anything with a
    // terminal (a login's shell and its commands) are not what the host "has".
    if (!st.ok() || pid == 2 || st->ppid == 2 || st->state == 'Z' || st->tty_nr != 0) continue;
    char target[4096];
    const std::string link = fmt::format("{}/{}/exe", o.proc_root, pid);
    const ssize_t len = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (len <= 0) continue;  // a kernel thread, or another user's process
    std::string exe(target, static_cast<size_t>(len));
    if (exe.ends_with(" (deleted)")) exe.resize(exe.size() - 10);  // upgraded in place
    // "/memfd:..." is a program run from memory (container runtimes): no file.
    if (exe.empty() || exe[0] != '/' || exe.starts_with("/memfd:")) continue;
    Item i;
    i.kind = Kind::kProcess;
    i.name = procfs::Printable(exe, 256);
    i.detail = procfs::Printable(st->comm, 32);
    auto age = AgeOf(*st, uptime);
    i.learnable = age && *age >= o.min_age;
    items.push_back(std::move(i));
  }
  return Merge(std::move(items), o.max_per_kind);
}

bool IsUnlearnableUnitName(const std::string& name) {
  static constexpr const char* kTransient[] = {
      "*.scope",
      "*.slice",
      "*.device",
      "*.target",
      "*.mount",
      "*.automount",
      "*.swap",
      "run-*",
      "session-*",
      "user@*.service",
      "user-runtime-dir@*.service",
      "*@[0-9]*-*.service"};  // one instance per connection (Accept=yes)
  for (const char* p : kTransient)
    if (::fnmatch(p, name.c_str(), 0) == 0) return true;
  return systemd::IsTemplateWithoutInstance(name);
}

std::vector<Item> UnitItems(const std::vector<systemd::UnitRecord>& units, size_t max) {
  std::vector<Item> items;
  for (const auto& u : units) {
    if (u.active_state != "active" || u.load_state != "loaded") continue;
    Item i;
    i.kind = Kind::kUnit;
    i.name = procfs::Printable(u.name, 256);
    i.learnable = !u.transient && !IsUnlearnableUnitName(u.name);
    items.push_back(std::move(i));
  }
  return Merge(std::move(items), max);
}

std::vector<Item> MountItems(const std::string& mountinfo_text, size_t max) {
  std::vector<Item> items;
  for (const auto& m : RealFilesystems(ParseMountInfo(mountinfo_text))) {
    Item i;
    i.kind = Kind::kMount;
    i.name = procfs::Printable(m.mount_point, 256);
    i.detail = procfs::Printable(m.fs_type, 32);
    items.push_back(std::move(i));
  }
  return Merge(std::move(items), max);
}

Snapshot TakeSnapshot(const SnapshotOptions& o,
                      const std::optional<Result<std::vector<systemd::UnitRecord>>>& units) {
  Snapshot snap;
  auto take = [&](Kind k, Result<std::vector<Item>> part) {
    if (!part.ok()) {
      snap.problems.push_back(fmt::format("{}s not read: {}", KindName(k), part.error().message()));
      return;
    }
    snap.read[static_cast<size_t>(k)] = true;
    snap.items.insert(snap.items.end(), std::make_move_iterator(part->begin()),
                      std::make_move_iterator(part->end()));
  };
  if (Includes(o, Kind::kListener)) take(Kind::kListener, ReadListeners(o));
  if (Includes(o, Kind::kProcess)) take(Kind::kProcess, ReadProcesses(o));
  if (Includes(o, Kind::kUnit) && units) {
    if (units->ok())
      take(Kind::kUnit, UnitItems(**units, o.max_per_kind));
    else
      take(Kind::kUnit, units->error());
  }
  if (Includes(o, Kind::kMount)) {
    auto text = procfs::ReadFileBounded(o.proc_root + "/self/mountinfo", 4 << 20);
    if (text.ok())
      take(Kind::kMount, MountItems(*text, o.max_per_kind));
    else
      take(Kind::kMount, text.error());
  }
  std::sort(snap.items.begin(), snap.items.end());
  return snap;
}

std::string MissingText(const Item& item) {
  const std::string who = item.detail.empty() ? "" : " (" + item.detail + ")";
  switch (item.kind) {
    case Kind::kListener:
      return fmt::format("{}{} was listening and is not now", item.name, who);
    case Kind::kProcess:
      return fmt::format("process {} is not running", item.name);
    case Kind::kUnit:
      return fmt::format("{} was active and is not now", item.name);
    case Kind::kMount:
      return fmt::format("{}{} is not mounted", item.name, who);
  }
  return item.name;
}

std::vector<Item> Missing(const std::vector<Item>& baseline, const Snapshot& now) {
  std::vector<Item> out;
  for (const auto& b : baseline) {
    if (!now.read[static_cast<size_t>(b.kind)]) continue;
    auto it = std::lower_bound(now.items.begin(), now.items.end(), b);
    if (it == now.items.end() || it->Key() != b.Key()) out.push_back(b);
  }
  return out;
}

std::vector<Item> Learner::Track(const Snapshot& now, bool healthy, MonoTime t,
                                 Duration learn_after) {
  if (!healthy) {
    since_.clear();
    return {};
  }
  std::map<std::pair<Kind, std::string>, MonoTime> next;
  std::vector<Item> due;
  for (const auto& i : now.items) {
    if (!i.learnable) continue;
    auto key = std::make_pair(i.kind, i.name);
    auto it = since_.find(key);
    const MonoTime since = it == since_.end() ? t : it->second;
    if (t - since >= learn_after) due.push_back(i);
    next.emplace(std::move(key), since);
  }
  // What was not seen this time starts over when it is seen again.
  since_ = std::move(next);
  return due;
}

}  // namespace mamori::host::baseline
