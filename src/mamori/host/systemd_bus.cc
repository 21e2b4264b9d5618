#include "mamori/host/systemd_bus.h"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace mamori::host::systemd {
namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kUnitIface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceIface = "org.freedesktop.systemd1.Service";

struct BusCloser {
  void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
using BusPtr = std::unique_ptr<sd_bus, BusCloser>;

// sd_bus_error, freed on every path.
struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&e); }
  std::string Text(int r) const {
    if (sd_bus_error_is_set(&e)) return fmt::format("{} ({})", e.message ? e.message : "", e.name);
    return std::strerror(-r);
  }
};

class Session {
 public:
  Session(const Clock& clock, MonoTime deadline) : clock_(clock), deadline_(deadline) {}

  Result<bool> Open(const std::string& address) {
    if (!address.empty()) return OpenAddress(address);
    if (::geteuid() == 0 && ::access("/run/systemd/private", F_OK) == 0) {
      auto r = OpenAddress("unix:path=/run/systemd/private");
      if (r.ok()) return r;
    }
    sd_bus* b = nullptr;
    int r = sd_bus_open_system(&b);
    if (r < 0) return Error(fmt::format("cannot connect to the system bus: {}", std::strerror(-r)));
    bus_.reset(b);
    return WaitReady("the system bus");
  }

  // Microseconds left, or an Error once the deadline passed.
  Result<uint64_t> Remaining(std::string_view step) const {
    auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - clock_.Monotonic());
    if (left.count() <= 0) return Error(fmt::format("timed out before {}", step));
    return static_cast<uint64_t>(left.count());
  }

  // Bounds the next call by the deadline.
  Result<bool> Arm(std::string_view step) {
    auto left = Remaining(step);
    if (!left.ok()) return left.error();
    sd_bus_set_method_call_timeout(bus_.get(), *left);
    return true;
  }

  sd_bus* bus() const { return bus_.get(); }

  Result<std::string> GetString(const std::string& path, const char* iface, const char* member) {
    if (auto a = Arm(member); !a.ok()) return a.error();
    BusError err;
    char* s = nullptr;
    int r = sd_bus_get_property_string(bus_.get(), kDest, path.c_str(), iface, member, &err.e, &s);
    if (r < 0) return Error(fmt::format("{} of {}: {}", member, path, err.Text(r)));
    std::string out = s ? s : "";
    std::free(s);
    return out;
  }

  Result<bool> GetBool(const std::string& path, const char* iface, const char* member) {
    if (auto a = Arm(member); !a.ok()) return a.error();
    BusError err;
    int v = 0;
    int r = sd_bus_get_property_trivial(bus_.get(), kDest, path.c_str(), iface, member, &err.e, 'b',
                                        &v);
    if (r < 0) return Error(fmt::format("{} of {}: {}", member, path, err.Text(r)));
    return v != 0;
  }

  Result<uint64_t> GetU(const std::string& path, const char* iface, const char* member, char type) {
    if (auto a = Arm(member); !a.ok()) return a.error();
    BusError err;
    uint64_t v64 = 0;
    uint32_t v32 = 0;
    int r = sd_bus_get_property_trivial(bus_.get(), kDest, path.c_str(), iface, member, &err.e,
                                        type, type == 't' ? static_cast<void*>(&v64) : &v32);
    if (r < 0) return Error(fmt::format("{} of {}: {}", member, path, err.Text(r)));
    return type == 't' ? v64 : v32;
  }

  Result<std::vector<std::string>> GetStrv(const std::string& path, const char* iface,
                                           const char* member) {
    if (auto a = Arm(member); !a.ok()) return a.error();
    BusError err;
    char** v = nullptr;
    int r = sd_bus_get_property_strv(bus_.get(), kDest, path.c_str(), iface, member, &err.e, &v);
    if (r < 0) return Error(fmt::format("{} of {}: {}", member, path, err.Text(r)));
    std::vector<std::string> out;
    for (char** p = v; p && *p; ++p) {
      out.emplace_back(*p);
      std::free(*p);
    }
    std::free(v);
    return out;
  }

 private:
  Result<bool> OpenAddress(const std::string& address) {
    sd_bus* b = nullptr;
    int r = sd_bus_new(&b);
    if (r < 0) return Error(fmt::format("sd_bus_new: {}", std::strerror(-r)));
    BusPtr owned(b);
    if ((r = sd_bus_set_address(b, address.c_str())) < 0 || (r = sd_bus_start(b)) < 0)
      return Error(fmt::format("cannot connect to {}: {}", address, std::strerror(-r)));
    bus_ = std::move(owned);
    return WaitReady(address);
  }

  // The connect is non-blocking; the authentication (and on a bus, Hello)
  // is driven here so that it too ends by the deadline.
  Result<bool> WaitReady(const std::string& what) {
    for (;;) {
      int r = sd_bus_is_ready(bus_.get());
      if (r > 0) return true;
      if (r < 0) return Error(fmt::format("connecting to {}: {}", what, std::strerror(-r)));
      r = sd_bus_process(bus_.get(), nullptr);
      if (r < 0) return Error(fmt::format("connecting to {}: {}", what, std::strerror(-r)));
      if (r > 0) continue;
      auto left = Remaining("the connection to " + what + " was ready");
      if (!left.ok()) return left.error();
      r = sd_bus_wait(bus_.get(), *left);
      if (r < 0) return Error(fmt::format("connecting to {}: {}", what, std::strerror(-r)));
    }
  }

  const Clock& clock_;
  MonoTime deadline_;
  BusPtr bus_;
};

// Reads the a(ssssssouso) array of ListUnits / ListUnitsByNames.
Result<bool> ParseUnitList(sd_bus_message* reply, std::vector<UnitRecord>& out,
                           std::vector<std::string>& paths) {
  int r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ssssssouso)");
  if (r < 0) return Error(fmt::format("reading the unit list: {}", std::strerror(-r)));
  for (;;) {
    const char *name, *desc, *load, *active, *sub, *following, *path, *job_type, *job_path;
    uint32_t job_id;
    r = sd_bus_message_read(reply, "(ssssssouso)", &name, &desc, &load, &active, &sub, &following,
                            &path, &job_id, &job_type, &job_path);
    if (r < 0) return Error(fmt::format("reading the unit list: {}", std::strerror(-r)));
    if (r == 0) break;
    UnitRecord u;
    u.name = name;
    u.load_state = load;
    u.active_state = active;
    u.sub_state = sub;
    out.push_back(std::move(u));
    paths.emplace_back(path);
  }
  sd_bus_message_exit_container(reply);
  return true;
}

// Every loaded unit and its object path (Manager.ListUnits).
Result<bool> ListUnits(Session& s, std::vector<UnitRecord>& units,
                       std::vector<std::string>& paths) {
  if (auto a = s.Arm("ListUnits"); !a.ok()) return a.error();
  BusError err;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call_method(s.bus(), kDest, "/org/freedesktop/systemd1",
                             "org.freedesktop.systemd1.Manager", "ListUnits", &err.e, &reply, "");
  if (r < 0) return Error(fmt::format("ListUnits: {}", err.Text(r)));
  auto parsed = ParseUnitList(reply, units, paths);
  sd_bus_message_unref(reply);
  return parsed;
}

// "foo.mount" -> "org.freedesktop.systemd1.Mount": the interface that has
// the unit type's Result property; empty for types without one.
std::string TypeInterface(const std::string& name) {
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {".service", "Service"},     {".socket", "Socket"}, {".mount", "Mount"},
      {".swap", "Swap"},           {".timer", "Timer"},   {".path", "Path"},
      {".automount", "Automount"}, {".scope", "Scope"}};
  for (const auto& [suffix, iface] : kTypes)
    if (name.ends_with(suffix)) return std::string("org.freedesktop.systemd1.") + iface;
  return "";
}

Result<bool> FillDetails(Session& s, const std::string& path, UnitRecord& u, bool named,
                         bool restarts) {
  const bool service = u.name.ends_with(".service");
  if (u.active_state == "failed") {
    if (auto iface = TypeInterface(u.name); !iface.empty()) {
      auto r = s.GetString(path, iface.c_str(), "Result");
      if (!r.ok()) return r.error();
      u.result = *r;
    }
  }
  if (service && restarts && u.load_state == "loaded") {
    auto n = s.GetU(path, kServiceIface, "NRestarts", 'u');
    if (!n.ok()) return n.error();
    u.n_restarts = static_cast<int64_t>(*n);
  }
  if (!service || u.active_state != "inactive" || u.load_state != "loaded") return true;
  auto ufs = s.GetString(path, kUnitIface, "UnitFileState");
  if (!ufs.ok()) return ufs.error();
  u.unit_file_state = *ufs;
  if (!named && u.unit_file_state != "enabled" && u.unit_file_state != "enabled-runtime")
    return true;
  auto type = s.GetString(path, kServiceIface, "Type");
  if (!type.ok()) return type.error();
  u.type = *type;
  auto result = s.GetString(path, kServiceIface, "Result");
  if (!result.ok()) return result.error();
  u.result = *result;
  auto rae = s.GetBool(path, kServiceIface, "RemainAfterExit");
  if (!rae.ok()) return rae.error();
  u.remain_after_exit = *rae;
  auto cond = s.GetBool(path, kUnitIface, "ConditionResult");
  if (!cond.ok()) return cond.error();
  if (!*cond) {
    // ConditionResult is also false before any start was attempted; only a
    // checked Condition (timestamp set) means "skipped on purpose".
    auto ts = s.GetU(path, kUnitIface, "ConditionTimestampMonotonic", 't');
    if (!ts.ok()) return ts.error();
    u.condition_failed = *ts != 0;
  }
  auto transient = s.GetBool(path, kUnitIface, "Transient");
  if (!transient.ok()) return transient.error();
  u.transient = *transient;
  for (const char* member : {"WantedBy", "RequiredBy"}) {
    auto v = s.GetStrv(path, kUnitIface, member);
    if (!v.ok()) return v.error();
    u.wanted_by.insert(u.wanted_by.end(), v->begin(), v->end());
  }
  return true;
}

}  // namespace

Result<std::vector<UnitRecord>> ReadUnits(const ReadOptions& o, const Clock& clock,
                                          MonoTime deadline) {
  Session s(clock, deadline);
  if (auto r = s.Open(o.address); !r.ok()) return r.error();

  std::vector<UnitRecord> units;
  std::vector<std::string> paths;
  if (auto listed = ListUnits(s, units, paths); !listed.ok()) return listed.error();
  const bool named = !o.select.unit.empty() && !HasGlob(o.select.unit);
  bool listed = false;
  for (const auto& u : units) listed = listed || u.name == o.select.unit;
  if (named && !listed) {
    // Not loaded: ask for it by name, which tells "inactive" from "not-found".
    if (auto a = s.Arm("ListUnitsByNames"); !a.ok()) return a.error();
    BusError err;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(s.bus(), kDest, "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "ListUnitsByNames", &err.e,
                               &reply, "as", 1, o.select.unit.c_str());
    if (r < 0) return Error(fmt::format("ListUnitsByNames {}: {}", o.select.unit, err.Text(r)));
    auto parsed = ParseUnitList(reply, units, paths);
    sd_bus_message_unref(reply);
    if (!parsed.ok()) return parsed.error();
  }
  for (size_t i = 0; i < units.size(); ++i) {
    if (!Selected(units[i].name, o.select)) continue;
    auto r = FillDetails(s, paths[i], units[i], named, o.select.restart_count > 0);
    // A unit can go away between the list and its properties: that one
    // unit's details stay unknown (which flags nothing). Running out of time
    // is the check's failure.
    if (!r.ok() && !s.Remaining("the unit details").ok()) return r.error();
  }
  return units;
}

namespace {

// JobRemoved(u id, o job, s unit, s result) of the job we wait for.
struct JobWait {
  std::string path;  // empty until RestartUnit answered
  std::string result;
  bool seen = false;
  std::vector<std::pair<std::string, std::string>> early;  // signals before the answer
};

int OnJobRemoved(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* w = static_cast<JobWait*>(userdata);
  uint32_t id = 0;
  const char *job = nullptr, *unit = nullptr, *result = nullptr;
  if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
  if (w->path.empty()) {
    // The signal may be processed while the call's reply is awaited.
    if (w->early.size() < 64) w->early.emplace_back(job, result);
  } else if (w->path == job) {
    w->result = result;
    w->seen = true;
  }
  return 0;
}

}  // namespace

Result<std::string> RestartUnit(const std::string& unit, const std::string& address,
                                const Clock& clock, MonoTime deadline) {
  Session s(clock, deadline);
  if (auto r = s.Open(address); !r.ok()) return r.error();
  JobWait w;
  sd_bus_slot* slot = nullptr;
  int r = sd_bus_match_signal(s.bus(), &slot, kDest, "/org/freedesktop/systemd1",
                              "org.freedesktop.systemd1.Manager", "JobRemoved", OnJobRemoved, &w);
  if (r < 0) return Error(fmt::format("watching systemd's jobs: {}", std::strerror(-r)));
  std::unique_ptr<sd_bus_slot, sd_bus_slot* (*)(sd_bus_slot*)> slot_owner(slot, sd_bus_slot_unref);
  auto call = [&](const char* member, sd_bus_message** reply, auto... args) -> Result<bool> {
    if (auto a = s.Arm(member); !a.ok()) return a.error();
    BusError err;
    int rc = sd_bus_call_method(s.bus(), kDest, "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", member, &err.e, reply, args...);
    if (rc < 0) return Error(fmt::format("{} {}: {}", member, unit, err.Text(rc)));
    return true;
  };
  if (auto c = call("Subscribe", nullptr, ""); !c.ok()) return c.error();
  sd_bus_message* reply = nullptr;
  if (auto c = call("RestartUnit", &reply, "ss", unit.c_str(), "replace"); !c.ok())
    return c.error();
  const char* job = nullptr;
  r = sd_bus_message_read(reply, "o", &job);
  w.path = r >= 0 && job ? job : "";
  sd_bus_message_unref(reply);
  if (w.path.empty()) return Error("RestartUnit " + unit + ": no job in the answer");
  for (const auto& [p, result] : w.early)
    if (p == w.path) return result;
  while (!w.seen) {
    r = sd_bus_process(s.bus(), nullptr);
    if (r < 0)
      return Error(fmt::format("waiting for the restart of {}: {}", unit, std::strerror(-r)));
    if (r > 0) continue;
    auto left = s.Remaining("the restart job of " + unit + " finished");
    if (!left.ok()) return left.error();
    r = sd_bus_wait(s.bus(), *left);
    if (r < 0)
      return Error(fmt::format("waiting for the restart of {}: {}", unit, std::strerror(-r)));
  }
  return w.result;
}

Result<std::vector<UnitRecord>> ReadUnitsByName(const std::vector<std::string>& names,
                                                const ReadOptions& o, const Clock& clock,
                                                MonoTime deadline) {
  Session s(clock, deadline);
  if (auto r = s.Open(o.address); !r.ok()) return r.error();
  std::vector<UnitRecord> units;
  std::vector<std::string> paths;
  if (auto a = s.Arm("ListUnitsByNames"); !a.ok()) return a.error();
  sd_bus_message* call = nullptr;
  int r = sd_bus_message_new_method_call(s.bus(), &call, kDest, "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "ListUnitsByNames");
  if (r < 0) return Error(fmt::format("ListUnitsByNames: {}", std::strerror(-r)));
  std::vector<char*> strv;
  for (const auto& n : names) strv.push_back(const_cast<char*>(n.c_str()));
  strv.push_back(nullptr);
  r = sd_bus_message_append_strv(call, strv.data());
  BusError err;
  sd_bus_message* reply = nullptr;
  if (r >= 0) r = sd_bus_call(s.bus(), call, 0, &err.e, &reply);
  sd_bus_message_unref(call);
  if (r < 0) return Error(fmt::format("ListUnitsByNames: {}", err.Text(r)));
  auto parsed = ParseUnitList(reply, units, paths);
  sd_bus_message_unref(reply);
  if (!parsed.ok()) return parsed.error();
  for (size_t i = 0; i < units.size(); ++i) {
    if (units[i].load_state != "loaded") continue;
    auto filled = FillDetails(s, paths[i], units[i], /*named=*/true, /*restarts=*/false);
    if (filled.ok() && units[i].active_state == "failed") {
      auto ufs = s.GetString(paths[i], kUnitIface, "UnitFileState");
      if (ufs.ok()) units[i].unit_file_state = *ufs;
    }
    if (!s.Remaining("the unit details").ok()) return Error("timed out reading the unit details");
  }
  return units;
}

}  // namespace mamori::host::systemd

namespace mamori::host::systemd {
namespace {

constexpr const char* kSocketIface = "org.freedesktop.systemd1.Socket";

// The first program of ExecStart (a(sasbttttuii)), or of Listen (a(ss)) the
// paths: both read from a property message, bounded by the session's deadline.
Result<sd_bus_message*> GetProperty(Session& s, const std::string& path, const char* iface,
                                    const char* member, const char* type) {
  if (auto a = s.Arm(member); !a.ok()) return a.error();
  BusError err;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_get_property(s.bus(), kDest, path.c_str(), iface, member, &err.e, &reply, type);
  if (r < 0) return Error(fmt::format("{} of {}: {}", member, path, err.Text(r)));
  return reply;
}

Result<std::string> ExecProgram(Session& s, const std::string& path) {
  auto m = GetProperty(s, path, kServiceIface, "ExecStart", "a(sasbttttuii)");
  if (!m.ok()) return m.error();
  std::string out;
  const char* program = nullptr;
  if (sd_bus_message_enter_container(*m, SD_BUS_TYPE_ARRAY, "(sasbttttuii)") > 0 &&
      sd_bus_message_enter_container(*m, SD_BUS_TYPE_STRUCT, "sasbttttuii") > 0 &&
      sd_bus_message_read(*m, "s", &program) > 0 && program)
    out = program;
  sd_bus_message_unref(*m);
  return out;
}

Result<std::vector<std::string>> ListenPaths(Session& s, const std::string& path) {
  auto m = GetProperty(s, path, kSocketIface, "Listen", "a(ss)");
  if (!m.ok()) return m.error();
  std::vector<std::string> out;
  if (sd_bus_message_enter_container(*m, SD_BUS_TYPE_ARRAY, "(ss)") > 0) {
    const char *type = nullptr, *address = nullptr;
    while (sd_bus_message_read(*m, "(ss)", &type, &address) > 0)
      if (address && address[0] == '/') out.emplace_back(address);
  }
  sd_bus_message_unref(*m);
  return out;
}

Result<bool> FillServiceFiles(Session& s, const std::string& path,
                              const std::set<std::string>& exec_for, stale::UnitFiles& u) {
  auto pid_file = s.GetString(path, kServiceIface, "PIDFile");
  if (!pid_file.ok()) return pid_file.error();
  u.pid_file = *pid_file;
  auto dirs = s.GetStrv(path, kServiceIface, "RuntimeDirectory");
  if (!dirs.ok()) return dirs.error();
  for (const auto& d : *dirs) u.runtime_dirs.push_back("/run/" + d);
  if (u.pid_file.empty() || !exec_for.count(stale::CanonicalRunPath(u.pid_file))) return true;
  auto main_pid = s.GetU(path, kServiceIface, "MainPID", 'u');
  if (!main_pid.ok()) return main_pid.error();
  u.main_pid = static_cast<uint32_t>(*main_pid);
  auto exec = ExecProgram(s, path);
  if (!exec.ok()) return exec.error();
  u.exec_path = *exec;
  return true;
}

}  // namespace

Result<std::vector<stale::UnitFiles>> ReadUnitFiles(const std::string& address,
                                                    const std::set<std::string>& exec_for,
                                                    const Clock& clock, MonoTime deadline) {
  Session s(clock, deadline);
  if (auto r = s.Open(address); !r.ok()) return r.error();
  std::vector<UnitRecord> units;
  std::vector<std::string> paths;
  if (auto listed = ListUnits(s, units, paths); !listed.ok()) return listed.error();
  std::vector<stale::UnitFiles> out;
  for (size_t i = 0; i < units.size(); ++i) {
    const auto& u = units[i];
    const bool service = u.name.ends_with(".service"), socket = u.name.ends_with(".socket");
    if (u.load_state != "loaded" || (!service && !socket)) continue;
    stale::UnitFiles f;
    f.name = u.name;
    f.active_state = u.active_state;
    Result<bool> r = true;
    if (service) {
      r = FillServiceFiles(s, paths[i], exec_for, f);
    } else if (auto l = ListenPaths(s, paths[i]); l.ok()) {
      f.listen_paths = std::move(*l);
    } else {
      r = l.error();
    }
    if (!r.ok()) {
      // As in ReadUnits: a unit gone meanwhile is skipped; the deadline is not.
      if (!s.Remaining("the unit files").ok()) return r.error();
      continue;
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace mamori::host::systemd
