// Check type "heartbeat": a job or host that must ping mamori's ping API
// (a dead man's switch). The check does not reach out; when it runs it judges
// the pings the daemon has received (see heartbeat/heartbeat_book.h): late,
// failed, running too long, or fine.
//
// The probe files its uuid/slug, track_ip and catch_up with the heartbeat
// book when attached (Probe::Attach); the daemon reads routes there and never
// needs the concrete class. With dns_name, each run resolves the name on the
// worker pool and fails when it no longer points at the address the pings
// come from: a home server's dynamic DNS gone stale. Immutable after
// construction; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/check/probe.h"

namespace mamori::probes::heartbeat {

class HeartbeatProbe final : public Probe {
 public:
  struct Options {
    std::string check, uuid, slug;
    mamori::heartbeat::Schedule schedule;
    bool track_ip = false;  // an address change is an event
    std::string dns_name;   // must resolve to the address the pings come from
    // Run once when a scheduled run was missed (the daemon runs it as
    // `mamori exec` would, so its result arrives as pings).
    std::vector<std::string> catch_up;
    Duration catch_up_timeout = std::chrono::hours(1);
  };
  explicit HeartbeatProbe(Options o) : o_(std::move(o)) {}

  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) override;
  void Attach(ProbeEnv& env) const override;

  const std::string& check() const { return o_.check; }
  const std::string& uuid() const {
    return o_.uuid;
  }  // lower case; may be empty when a slug is set
  const std::string& slug() const { return o_.slug; }
  bool track_ip() const { return o_.track_ip; }
  const std::string& dns_name() const { return o_.dns_name; }
  const std::vector<std::string>& catch_up() const { return o_.catch_up; }
  Duration catch_up_timeout() const { return o_.catch_up_timeout; }

 private:
  Options o_;
};

}  // namespace mamori::probes::heartbeat
