// Reads the loaded units of the running systemd through its D-Bus API
// (libsystemd's sd-bus, org.freedesktop.systemd1), never by parsing
// `systemctl` output: Manager.ListUnits for every loaded unit and its states,
// then, only for the units the check selects, the few properties the
// judgment needs (systemd_units.h): Result of failed units, NRestarts of
// services, and for inactive services UnitFileState, then (enabled or asked
// for by name only) Type, RemainAfterExit, ConditionResult and its
// timestamp, Transient, WantedBy and RequiredBy. On a host with 300 units
// that is about a hundred small calls, not 300 GetAll replies.
//
// Connection: root talks to systemd's private socket (/run/systemd/private,
// as systemctl does: it works without a D-Bus daemon), anyone else, or root
// when that fails, to the system bus. Every step is bounded by `deadline`:
// the handshake is driven by hand with sd_bus_wait(remaining), and each call
// gets sd_bus_set_method_call_timeout(remaining). A new connection per read,
// closed before returning.
//
// Threading: blocking; call from a worker thread. Concurrent calls are fine
// (nothing is shared). Failure: an Error naming the step and the D-Bus error.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "mamori/host/stale_files.h"
#include "mamori/host/systemd_units.h"
#include "mamori/util/result.h"

namespace mamori::host::systemd {

struct ReadOptions {
  Options select;       // which units get their details read (unit:, ignore:)
  std::string address;  // a D-Bus address to use instead (tests); empty: as above
};

Result<std::vector<UnitRecord>> ReadUnits(const ReadOptions& o, const Clock& clock,
                                          MonoTime deadline);

// Manager.RestartUnit(unit, "replace"), then waits for the job's JobRemoved
// signal (Manager.Subscribe first, so the private socket sends it too) until
// `deadline`. Returns the job's result: "done", "failed", "canceled",
// "timeout", "dependency", "skipped"; an Error when the call is refused (no
// such unit, not allowed) or the job has not finished by the deadline (the
// job itself is left to systemd).
Result<std::string> RestartUnit(const std::string& unit, const std::string& address,
                                const Clock& clock, MonoTime deadline);

// The units `names` as systemd knows them, loaded or not (load_state
// "not-found" for a unit it has no file for), each with the details a unit
// asked for by name gets, and UnitFileState also when it failed. For checks
// that follow a few known units (the time daemons).
Result<std::vector<UnitRecord>> ReadUnitsByName(const std::vector<std::string>& names,
                                                const ReadOptions& o, const Clock& clock,
                                                MonoTime deadline);

}  // namespace mamori::host::systemd

namespace mamori::host::systemd {

// For the stale_files check (stale_files.h): every loaded service's
// PIDFile= and RuntimeDirectory=, every loaded socket unit's listening paths
// (Listen), and MainPID and ExecStart's program only for the services whose
// PIDFile= (as CanonicalRunPath) is in `exec_for`. Same connection rules
// and deadline as ReadUnits; a unit that goes away meanwhile is left out.
Result<std::vector<stale::UnitFiles>> ReadUnitFiles(const std::string& address,
                                                    const std::set<std::string>& exec_for,
                                                    const Clock& clock, MonoTime deadline);

}  // namespace mamori::host::systemd
