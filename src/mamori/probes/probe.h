// Probe: one check type's way of measuring one target, producing an
// Observation. This is the only interface a check type implements; the engine,
// store and faces never see a concrete probe.
//
// Ownership: a Probe is built once from its configuration by the factory the
// check type registers (see registry.h) and held by shared_ptr, because a run
// in flight keeps it alive across a config reload.
//
// Threading: Start() is called on the scheduler's thread and must not block;
// `done` may be called from any thread, exactly once. The scheduler never
// starts a probe again while a run of it is in flight, but distinct probes run
// concurrently. Blocking work (syscalls, /proc reads, spawning processes) goes
// through BlockingProbe, which runs it on the worker pool.
//
// Failure: a probe never throws for anything the target does. It reports
// CRITICAL/WARNING when the target is bad and UNKNOWN when it could not tell
// (misconfigured, permission denied, its own timeout).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/state.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace mamori {

class HttpClient;
namespace heartbeat {
class HeartbeatBook;
}

struct Metric {
  std::string name;  // snake_case with a unit suffix where it helps: "total_ms"
  double value = 0;
};

struct Observation {
  CheckStatus status = CheckStatus::kUnknown;
  std::string summary;  // one line, shown in tables and alert subjects
  std::string details;  // optional multi-line text (command output, body excerpt)
  std::vector<Metric> metrics;
  // Filled in by the runner, not the probe:
  WallTime time{};
  Duration duration{};

  static Observation Make(CheckStatus s, std::string summary) {
    Observation o;
    o.status = s;
    o.summary = std::move(summary);
    return o;
  }
  void AddMetric(std::string name, double value) { metrics.push_back({std::move(name), value}); }
};

// What a probe may use while running. Owned by the runner; outlives every run.
struct ProbeEnv {
  const Clock& clock;
  boost::asio::io_context& io;     // event loop for async network probes
  boost::asio::thread_pool& pool;  // for blocking work
  HttpClient* http;  // shared async HTTP client (libcurl multi); never null in the daemon
  // Pings received by the daemon (or loaded from its store by one-shot
  // commands); null where nobody can know them.
  heartbeat::HeartbeatBook* heartbeats = nullptr;
  // The configuration's data_dir (absolute), for probes that keep their own
  // history beside the store (backup checks); empty where there is none.
  std::string data_dir{};
};

using ProbeDone = std::function<void(Observation)>;

class Probe {
 public:
  virtual ~Probe() = default;
  // Begins one measurement that should finish by `deadline` (a monotonic time;
  // the runner reports UNKNOWN "timed out" if it does not, and ignores a late
  // answer). Calls `done` exactly once, from any thread.
  virtual void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) = 0;
};

// Base for probes whose work is a blocking function: Run() is executed on the
// worker pool. Run() may be called from different pool threads over time but
// never concurrently for one probe.
class BlockingProbe : public Probe {
 public:
  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) final;
  virtual Observation Run(const Clock& clock, MonoTime deadline) = 0;
};

}  // namespace mamori
