// Check type "heartbeat": a job or host that must ping mamori's ping API
// (a dead man's switch). The check does not reach out; when it runs it judges
// the pings the daemon has received (see heartbeat/heartbeat_book.h): late,
// failed, running too long, or fine.
//
// The daemon routes pings by the probe's uuid or slug, so the class is visible
// here (the only probe with a header for that reason). Immutable after
// construction; thread-safe.
#pragma once

#include <string>

#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/probes/probe.h"

namespace mamori::probes::heartbeat {

class HeartbeatProbe final : public Probe {
 public:
  HeartbeatProbe(std::string check, std::string uuid, std::string slug,
                 mamori::heartbeat::Schedule schedule)
      : check_(std::move(check)),
        uuid_(std::move(uuid)),
        slug_(std::move(slug)),
        schedule_(std::move(schedule)) {}

  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) override;

  const std::string& check() const { return check_; }
  const std::string& uuid() const { return uuid_; }  // lower case; may be empty when a slug is set
  const std::string& slug() const { return slug_; }
  const mamori::heartbeat::Schedule& schedule() const { return schedule_; }

 private:
  std::string check_, uuid_, slug_;
  mamori::heartbeat::Schedule schedule_;
};

}  // namespace mamori::probes::heartbeat
