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

#include "mamori/check/services.h"
#include "mamori/core/observation.h"
#include "mamori/util/clock.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace mamori {

class HttpClient;

// What a probe may use while running. Owned by the runner; outlives every run.
struct ProbeEnv {
  const Clock& clock;
  boost::asio::io_context& io;     // event loop for async network probes
  boost::asio::thread_pool& pool;  // for blocking work
  HttpClient* http;  // shared async HTTP client (libcurl multi); never null in the daemon
  // Services of the layers above (the heartbeat book, ...), by type.
  ProbeServices services{};
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
  // Called by the composition at start and after every reload, before any
  // run, so a check fed from outside (a heartbeat's ping address) can file
  // itself with the service that feeds it (env.services). Most do nothing.
  virtual void Attach(ProbeEnv& /*env*/) const {}
  // Whether Start hands the work to the worker pool (BlockingProbe). The
  // scheduler starts such checks one by one, not in batches: a batch's wait
  // for a free pool thread would count against their timeouts.
  virtual bool UsesWorkerPool() const { return false; }
};

// Base for probes whose work is a blocking function: Run() is executed on the
// worker pool. Run() may be called from different pool threads over time but
// never concurrently for one probe.
class BlockingProbe : public Probe {
 public:
  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) final;
  bool UsesWorkerPool() const final { return true; }
  virtual Observation Run(const Clock& clock, MonoTime deadline) = 0;

 protected:
  // Called by Start on the scheduler's thread before each run is handed to
  // the pool, for probes that need something of the environment (the data
  // directory, a service). What it stores is visible to the Run that follows.
  virtual void Bind(const ProbeEnv& /*env*/) {}
};

}  // namespace mamori
