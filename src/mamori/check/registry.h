// ProbeRegistry: maps a check `type:` to the factory that builds its Probe from
// the check's configuration node.
//
// Each check type lives in src/mamori/<domain>/<type>_probe.cc (probes/ for
// the general ones, logs/, backup/, heartbeat/ for theirs) and defines
// mamori::probes::<type>::Register(ProbeRegistry&); the composition's
// generated BuiltinProbes() (daemon/builtin_probes.h) calls them all, so
// adding a check type is one new file (plus its test) and nothing else.
//
// A factory reads its keys from the node (common keys such as name, type,
// interval and timeout are already consumed by the loader), reports problems
// through node.Error*/Get*, and returns nullptr if the check cannot be built.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mamori/config/node.h"
#include "mamori/check/probe.h"

namespace mamori {

using ProbeFactory = std::function<std::unique_ptr<Probe>(config::ConfigNode& node)>;

class ProbeRegistry {
 public:
  struct Entry {
    std::string type;
    std::string description;  // one line, for `mamori check-types`
    ProbeFactory factory;
    // For types whose result is already a settled judgment (a heartbeat is
    // late or it is not): one failure is a hard failure and one success a
    // recovery, unless the check sets failures_before_alert /
    // successes_before_recovery itself.
    bool settled = false;
    // Type-specific defaults for a check that sets no interval/timeout itself
    // (zero: the configuration's defaults). The timeout never exceeds the
    // interval. Backup checks verify and restore for minutes, hourly.
    Duration default_interval{};
    Duration default_timeout{};
  };
  // Returns the new entry, so a type can set its default timing.
  Entry& Add(std::string type, std::string description, ProbeFactory factory,
             bool settled = false);
  const Entry* Find(std::string_view type) const;
  std::vector<std::string> Types() const;
  const std::map<std::string, Entry, std::less<>>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace mamori
