// ProbeHarness: runs probes in tests the way the runner does (an io_context on
// its own thread, a worker pool, an optional HTTP client) and waits for the
// observation. Also builds a probe from YAML text through the registry, so a
// test exercises the same config path a user does.
#pragma once

#include <memory>
#include <string>

#include "mamori/check/probe.h"
#include "mamori/config/diagnostics.h"
#include "mamori/util/clock.h"

namespace mamori::testing {

class ProbeHarness {
 public:
  // `http` may be null for probes that do not use HTTP.
  explicit ProbeHarness(HttpClient* http = nullptr);
  ~ProbeHarness();

  // Builds a probe from one check's YAML mapping ("{name: x, type: tcp, ...}").
  // Returns null and fills `errors` (one per line) if the config is invalid.
  std::shared_ptr<Probe> Build(const std::string& yaml, std::string* errors = nullptr);

  // Runs the probe once with the given timeout and returns its observation.
  Observation Run(Probe& probe, Duration timeout = std::chrono::seconds(10));
  // Build + Run; fails the test (ADD_FAILURE) if the config is invalid.
  Observation RunYaml(const std::string& yaml, Duration timeout = std::chrono::seconds(10));

  const Clock& clock() const { return clock_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SystemClock clock_;
};

}  // namespace mamori::testing
